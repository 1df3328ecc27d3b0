// Undo the last change I made on this board: a toast offers "Undo", and Ctrl+Z (outside a
// text field or dialog) does the same. An undo is a new change sent through the same API,
// so the server's rules hold: versions (a conflict shows the usual conflict table), roles.
// Any other change of mine (a comment, a column, the board's name, another tab...) makes the
// recorded one no longer the last, so the board's events of my own changes forget it.

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
    this.last = null; // {label, run, ...about}: `run(last)` undoes it
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
  record(label, run, about = {}) {
    this.last = { ...about, label, run };
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
      await last.run(last);
    } catch (error) {
      toast(`Couldn't undo: ${error.message}`, "error");
    }
  }

  destroy() {
    this.hideToast();
    document.removeEventListener("keydown", this.listener);
  }
}

const KEPT_ANSWERS = 50;

/** The version of a task a change wrote: the same key from my write's answer and its event. */
function versionKey(task) {
  return `${task.id}@${task.version}`;
}

function deletedKey(id) {
  return `${id}:deleted`;
}

/** The keys of an event's change, as `mine` was told them from the write's answer. */
function eventKeys({ event, data }) {
  if (event === "task.deleted") return [deletedKey(data.id)];
  if (event === "checklist_item.deleted") return [versionKey(data.task), deletedKey(data.item.id)];
  if (event.startsWith("checklist_item.")) return [versionKey(data.task)];
  if (event.startsWith("task.")) return [versionKey(data)];
  return [];
}

function eventTaskId({ event, data }) {
  if (event.startsWith("checklist_item.")) return data.task_id;
  return event.startsWith("task.") ? data.id : null;
}

/** What can be undone on a board, each as the inverse change through the API. */
export class BoardUndo extends UndoManager {
  /** `show(task)`: a task is back or changed; `hide(id)`: a task left the board. */
  constructor({ state, dialog, show, hide, api }) {
    super();
    Object.assign(this, { state, dialog, hide, api });
    this.showTask = show;
    this.answered = new Set(); // keys of my writes already answered: their events are no news
  }

  /** My write `keys` was answered (its event may come before or after). */
  mine(...keys) {
    for (const key of keys) this.answered.add(key);
    // An event that came before its answer leaves its key behind: keep only the latest.
    for (const key of this.answered) {
      if (this.answered.size <= KEPT_ANSWERS) break;
      this.answered.delete(key);
    }
  }

  /** Record my change of `task` (`keys`: what its answer wrote). */
  recordChange(label, task, keys, run) {
    this.mine(...keys);
    this.record(label, run, { taskId: task.id, changedBy: null });
  }

  /** Every board event: a change of mine not answered here replaces my last change (it can
   * no longer be undone without undoing a later one); someone else's change of its task is
   * remembered to say who when the undo refuses. */
  observe(message) {
    if (message.actor !== this.state.me.id) {
      if (this.last && eventTaskId(message) === this.last.taskId) this.last.changedBy = message.actor;
      return;
    }
    const keys = eventKeys(message);
    if (keys.some((key) => this.answered.has(key))) {
      for (const key of keys) this.answered.delete(key);
      return;
    }
    this.forget();
  }

  /** A save of the task dialog: `change` is {created} or {before, changes}. */
  edited(task, change) {
    if (change.created) {
      this.recordChange(`Created ${quoted(task.title)}`, task, [versionKey(task)], async () => {
        this.mine(deletedKey(task.id));
        await this.api("DELETE", `/tasks/${task.id}`, { headers: { "If-Match": `"${task.version}"` } });
        this.hide(task.id);
      });
      return;
    }
    const inverse = Object.fromEntries(Object.keys(change.changes).map((field) => [field, change.before[field]]));
    this.recordChange(`Saved ${quoted(task.title)}`, task, [versionKey(task)], () => this.dialog.saveUndo(task, inverse));
  }

  deleted(task) {
    this.recordChange(`Moved ${quoted(task.title)} to the trash`, task, [deletedKey(task.id)], async () => {
      this.showTask(await this.send("POST", `/boards/${task.board_id}/trash/${task.id}/restore`));
    });
  }

  archived(task) {
    this.recordChange(`Archived ${quoted(task.title)}`, task, [versionKey(task)], async () => {
      try {
        this.showTask(await this.send("POST", `/tasks/${task.id}/unarchive`, { version: task.version }));
      } catch (error) {
        if (error.status !== 409 || !error.body?.current) throw error;
        toast(`${quoted(task.title)} was changed since you archived it; it stays archived.`, "error");
      }
    });
  }

  /** A card moved from `from` = {status, before, after} (its neighbours there). A move takes
   * no version, so the board's copy of the task is the check: moved or edited by someone since,
   * it stays where they left it. */
  moved(task, from) {
    this.recordChange(`Moved ${quoted(task.title)}`, task, [versionKey(task)], async (last) => {
      if (this.changedSince(task, last, "moved")) return;
      const back = (body) => this.send("POST", `/tasks/${task.id}/move`, body);
      try {
        this.showTask(await back(from));
      } catch (error) {
        // Its old neighbours moved too: back to the end of its old column.
        if (error.code !== "invalid_neighbour") throw error;
        this.showTask(await back({ status: from.status }));
      }
    });
  }

  /** True, and said, when the board holds another version of `task` than my change left. */
  changedSince(task, last, what) {
    if (this.state.tasks.get(task.id)?.version === task.version) return false;
    const who = last.changedBy ? this.state.memberName(last.changedBy) : "Someone";
    toast(`${who} changed ${quoted(task.title)} after you ${what} it, so it was not undone.`, "error");
    return true;
  }

  /** A checklist change of mine (checklist.js's "checklist-change"): `task` after it
   * (`version` null when the answer had none), `item` as it was (a new one: as it is),
   * `index` its place before, `change`: "add", "remove" or the fields set. */
  checklistChanged({ task, item, index, change }) {
    const path = `/tasks/${task.id}/checklist`;
    const keys = task.version == null ? [deletedKey(item.id)] : [versionKey(task)];
    const keep = (label, run) => this.recordChange(label, task, keys, run);
    if (change === "add") {
      return keep(`Added ${quoted(item.text)} to the checklist`, async () => {
        if (!this.currentItem(task, item)) return;
        this.mine(deletedKey(item.id));
        await this.api("DELETE", `${path}/${item.id}`);
      });
    }
    if (change === "remove") {
      return keep(`Removed ${quoted(item.text)} from the checklist`, async () => {
        const position = Math.min(index, this.state.tasks.get(task.id)?.checklist.length ?? index);
        let restored = await this.send("POST", path, { text: item.text, position });
        const added = restored.checklist[position];
        if (item.done && added?.text === item.text) restored = await this.send("PATCH", `${path}/${added.id}`, { done: true });
        this.showTask(restored);
      });
    }
    const inverse = {};
    if ("text" in change) inverse.text = item.text;
    if ("done" in change) inverse.done = item.done;
    const label = "done" in change ? `${change.done ? "Ticked" : "Unticked"} ${quoted(item.text)}`
      : "text" in change ? `Edited ${quoted(item.text)}` : `Moved ${quoted(item.text)} in the checklist`;
    return keep(label, async () => {
      const now = this.currentItem(task, item);
      if (!now) return;
      // Someone else set the item since: theirs stays.
      if (Object.keys(inverse).some((field) => now[field] !== change[field])) {
        toast(`${quoted(item.text)} was changed since, so it was not undone.`, "error");
        return;
      }
      if ("position" in change) inverse.position = Math.min(index, this.state.tasks.get(task.id).checklist.length - 1);
      this.showTask(await this.send("PATCH", `${path}/${item.id}`, inverse));
    });
  }

  /** An undo's write whose answer is the task. */
  async send(method, path, body) {
    const task = await this.api(method, path, { body });
    this.mine(versionKey(task));
    return task;
  }

  /** The item as the board holds it now, or null (said) when it is gone. */
  currentItem(task, item) {
    const now = this.state.tasks.get(task.id)?.checklist.find((other) => other.id === item.id);
    if (!now) toast(`${quoted(item.text)} is no longer on the checklist, so it was not undone.`, "error");
    return now || null;
  }
}
