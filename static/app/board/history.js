// A task's own history in the task dialog: its events from the board's log
// (GET /boards/{id}/events?task_id=…), oldest first, in the activity feed's words, and
// extended by live events while the dialog is open. Loaded when first unfolded.

import { api } from "../api.js";
import { h, uid } from "../dom.js";
import { activityItem, describe, normalise } from "./activity.js";

const PAGE = 200;

/** The task an event is about: a task event's data is the task, a comment's or a checklist
 * item's event says task_id. */
export function eventTaskId(event) {
  if (event.type.startsWith("task.")) return event.data.task_id ?? event.data.id; // a rule's events name task_id
  if (event.type.startsWith("comment.") || event.type.startsWith("attachment.") || event.type.startsWith("checklist_item.")) {
    return event.data.task_id;
  }
  return null;
}

export class TaskHistory {
  constructor({ state }) {
    this.state = state;
    this.taskId = null;
    this.items = null; // null: not loaded for this task
    this.loading = null;
    this.list = h("ol", { class: "history-list", "data-testid": "history" });
    const summaryId = uid("history");
    this.summary = h("summary", { class: "section-title", id: summaryId }, "History");
    this.element = h("details", { class: "task-section history" }, this.summary, this.list);
    this.element.addEventListener("toggle", () => { if (this.element.open) this.load(); });
  }

  open(taskId) {
    this.taskId = taskId;
    this.items = null;
    this.list.replaceChildren();
    if (this.element.open) this.load();
  }

  close() {
    this.taskId = null;
    this.items = null;
  }

  async load() {
    const taskId = this.taskId;
    if (!taskId || this.items || this.loading) return;
    this.list.setAttribute("aria-busy", "true");
    this.list.replaceChildren(h("li", { class: "muted small" }, "Loading history…"));
    const events = [];
    this.arrived = []; // live events of the task while its pages are read
    this.loading = (async () => {
      let after = 0;
      for (;;) {
        const page = await api("GET", `/boards/${this.state.board.id}/events`, { query: { task_id: taskId, after, limit: PAGE } });
        events.push(...page.items.map(normalise));
        if (page.items.length < PAGE) return;
        after = page.items[page.items.length - 1].seq;
      }
    })();
    try {
      await this.loading;
      if (this.taskId !== taskId) return;
      // A live event may have arrived meanwhile: keep each seq once.
      const bySeq = new Map([...events, ...this.arrived].map((event) => [event.seq, event]));
      this.items = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      this.render();
    } catch (error) {
      if (this.taskId === taskId) this.list.replaceChildren(h("li", { class: "form-error" }, `Couldn't load the history: ${error.message}`));
    } finally {
      this.loading = null;
      this.list.removeAttribute("aria-busy");
    }
  }

  /** A live board event; only the open task's are kept, once each. */
  receive(message) {
    const event = normalise(message);
    if (!this.taskId || eventTaskId(event) !== this.taskId) return;
    if (!this.items) {
      if (this.loading) this.arrived.push(event);
      return;
    }
    if (this.items.some((item) => item.seq === event.seq)) return;
    this.items.push(event);
    this.render();
  }

  render() {
    this.summary.textContent = `History (${this.items.length})`;
    if (!this.items.length) {
      this.list.replaceChildren(h("li", { class: "muted small" }, "Nothing recorded yet."));
      return;
    }
    this.list.replaceChildren(...this.items.map((event) => activityItem(event, describe(event, this.state), this.state)));
  }
}
