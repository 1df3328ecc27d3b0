// What the task dialog's attachments and comments share: the open task's items, loaded in
// pages, kept live by the board's events. Events that arrive while the list is loading wait
// in `pending` and are applied in order once it is in, so none is lost or applied twice.
// A subclass keeps the items (its `apply`), shows them (`render`) and owns `list`.

import { listAll } from "../api.js";
import { h } from "../dom.js";

export class LiveTaskList {
  /** `noun` names the items in their API path and in messages ("comments"); their events'
   * names start with `eventPrefix` ("comment."). */
  constructor(noun, eventPrefix) {
    this.noun = noun;
    this.eventPrefix = eventPrefix;
    this.taskId = null;
    this.pending = null; // live events that arrived while the list was loading
  }

  /** Load the task's items into `records` (id -> item); call with `pending` set to []. */
  async load(taskId, records) {
    this.list.setAttribute("aria-busy", "true");
    this.list.replaceChildren(h("li", { class: "muted small" }, `Loading ${this.noun}…`));
    try {
      const items = await listAll(`/tasks/${taskId}/${this.noun}`);
      if (this.taskId !== taskId) return;
      for (const item of items) records.set(item.id, item);
      const pending = this.pending;
      this.pending = null;
      for (const message of pending) this.apply(message);
      this.render();
    } catch (error) {
      if (this.taskId !== taskId) return;
      this.pending = null;
      this.list.replaceChildren(h("li", { class: "form-error" }, `Couldn't load the ${this.noun}: ${error.message}`));
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  /** A live board event; only this task's items matter. */
  receive(message) {
    if (!this.taskId || !message.event.startsWith(this.eventPrefix) || message.data.task_id !== this.taskId) return;
    if (this.pending) {
      this.pending.push(message);
      return;
    }
    this.apply(message);
    this.render();
  }
}
