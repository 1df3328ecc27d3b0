// Undo the last change I made on this board: a toast offers "Undo", and Ctrl+Z (outside a
// text field or dialog) does the same. An undo is a new change sent through the same API,
// so the server's rules hold: versions (a conflict shows the usual conflict table), roles.

import { h, quoted } from "../dom.js";
import { toast } from "../toast.js";

const TOAST_MS = 8000;

function typing(target) {
  return target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

export class UndoManager {
  /** `single`: for one change that outlives its page (deleting a board leaves it): the
   * manager ends, Ctrl+Z included, once its toast goes. */
  constructor({ single = false } = {}) {
    this.single = single;
    this.last = null; // {label, run}
    this.node = null;
    this.timer = null;
    this.listener = (event) => {
      if (event.key.toLowerCase() !== "z" || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
      if (typing(event.target) || document.querySelector("dialog[open]") || !this.last) return;
      event.preventDefault();
      this.undo();
    };
    document.addEventListener("keydown", this.listener);
  }

  /** My change just succeeded: `label` says what it was ("Archived ‘Ship it’"), `run` undoes it. */
  record(label, run) {
    this.last = { label, run };
    this.showToast(label);
  }

  /** Forget the last change (it can no longer be undone as recorded). */
  forget() {
    this.last = null;
    this.hideToast();
  }

  showToast(label) {
    this.hideToast();
    const host = document.getElementById("toasts");
    if (!host) return;
    const button = h("button", { type: "button", class: "btn btn-small toast-action", "data-testid": "undo" }, "Undo");
    button.addEventListener("click", () => this.undo());
    const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "×");
    close.addEventListener("click", () => this.hideToast());
    this.node = h("div", { class: "toast toast-info toast-undo", "data-testid": "undo-toast" },
      h("span", { class: "toast-text" }, label), button, close);
    host.append(this.node);
    this.timer = setTimeout(() => this.hideToast(), TOAST_MS);
  }

  hideToast() {
    clearTimeout(this.timer);
    const shown = this.node;
    this.node?.remove();
    this.node = null;
    if (shown && this.single) {
      this.last = null;
      document.removeEventListener("keydown", this.listener);
    }
  }

  async undo() {
    const last = this.last;
    if (!last) return;
    this.forget();
    try {
      await last.run();
    } catch (error) {
      toast(`Couldn't undo: ${error.message}`, "error");
    }
  }

  destroy() {
    this.hideToast();
    document.removeEventListener("keydown", this.listener);
  }
}

/** What can be undone on a board, each as the inverse change through the API. */
export class BoardUndo extends UndoManager {
  /** `show(task)`: a task is back or changed; `hide(id)`: a task left the board. */
  constructor({ state, dialog, show, hide, api }) {
    super();
    Object.assign(this, { state, dialog, show, hide, api });
  }

  /** A save of the task dialog: `change` is {created} or {before, changes}. */
  edited(task, change) {
    if (change.created) {
      this.record(`Created ${quoted(task.title)}`, async () => {
        await this.api("DELETE", `/tasks/${task.id}`, { headers: { "If-Match": `"${task.version}"` } });
        this.hide(task.id);
      });
      return;
    }
    const inverse = Object.fromEntries(Object.keys(change.changes).map((field) => [field, change.before[field]]));
    this.record(`Saved ${quoted(task.title)}`, () => this.dialog.saveUndo(task, inverse));
  }

  deleted(task) {
    this.record(`Moved ${quoted(task.title)} to the trash`, async () => {
      this.show(await this.api("POST", `/boards/${task.board_id}/trash/${task.id}/restore`));
    });
  }

  archived(task) {
    this.record(`Archived ${quoted(task.title)}`, async () => {
      try {
        this.show(await this.api("POST", `/tasks/${task.id}/unarchive`, { body: { version: task.version } }));
      } catch (error) {
        if (error.status !== 409 || !error.body?.current) throw error;
        toast(`${quoted(task.title)} was changed since you archived it; it stays archived.`, "error");
      }
    });
  }

  /** A card moved from `from` = {status, before, after} (its neighbours there). */
  moved(task, from) {
    this.record(`Moved ${quoted(task.title)}`, async () => {
      const back = (body) => this.api("POST", `/tasks/${task.id}/move`, { body });
      try {
        this.show(await back(from));
      } catch (error) {
        // Its old neighbours moved too: back to the end of its old column.
        if (error.code !== "invalid_neighbour") throw error;
        this.show(await back({ status: from.status }));
      }
    });
  }
}
