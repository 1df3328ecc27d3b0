// The task dialog: create, edit, delete, and the 409 path — when someone else saved the
// task first, show their version next to mine and let the user keep theirs or mine.

import { api } from "../api.js";
import { columnLabel, dueDateInputValue, formatDueDate, h, uid } from "../dom.js";
import { AttachmentPanel } from "./attachments.js";
import { ChecklistEditor } from "./checklist.js";
import { CommentThread } from "./comments.js";
import { DescriptionEditor } from "./description-editor.js";
import { TaskHistory } from "./history.js";
import { RecurrenceControl } from "./recurrence.js";
import { PRIORITIES } from "./state.js";
import { WatchToggle } from "../preferences/watch.js";

const FIELDS = ["title", "description", "status", "priority", "due_at", "labels", "assignees"];
const FIELD_NAMES = { title: "Title", description: "Description", status: "Column", priority: "Priority",
                      due_at: "Due date", labels: "Labels", assignees: "Assignees" };

function labelled(text, control, hint) {
  const id = control.id || uid("field");
  control.id = id;
  return h("div", { class: "field" }, h("label", { class: "field-label", for: id }, text), control,
    hint ? h("p", { class: "field-hint" }, hint) : null);
}

// Due dates are edited as calendar days: a due time set through the API is not a change.
function same(field, a, b) {
  if (field === "due_at") return dueDateInputValue(a) === dueDateInputValue(b);
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields of `values` that differ from `task`. */
function changesBetween(task, values) {
  return Object.fromEntries(FIELDS.filter((f) => !same(f, task[f], values[f])).map((f) => [f, values[f]]));
}

export class TaskDialog {
  /** `onSaved(task, change)`: change is {created: true}, or {before, changes} (the task my
   * edit was made on and the fields it set), for undo, and `from`: the column it was in (null:
   * new), for the work-in-progress warning; `onDeleted(id, task)`, `onArchived(task)`. */
  constructor({ state, live, onSaved, onDeleted, onArchived }) {
    this.state = state;
    this.live = live;
    this.editor = null; // the live, co-edited description of an existing task
    this.onSaved = onSaved;
    this.onDeleted = onDeleted;
    this.onArchived = onArchived;
    this.task = null;
    this.changedBy = null; // {version, name}: who made the live change that a 409 will be about
    this.thread = new CommentThread({ state });
    this.checklist = new ChecklistEditor({ state, onChanged: (task) => { this.follow(task); this.onSaved(task); } });
    this.history = new TaskHistory({ state });
    this.attachments = new AttachmentPanel({ state });
    this.repeat = new RecurrenceControl({ state });
    this.build();
  }

  build() {
    this.heading = h("h2", { class: "dialog-title", id: uid("dialog-title") });
    this.title = h("input", { class: "input", name: "title", required: true, maxlength: 300, autocomplete: "off" });
    this.description = h("textarea", { class: "input", name: "description", rows: 4, maxlength: 20000 });
    this.status = h("select", { class: "input", name: "status" });
    this.priority = h("select", { class: "input", name: "priority" },
      PRIORITIES.map((p) => h("option", { value: p }, p[0].toUpperCase() + p.slice(1))));
    this.due = h("input", { class: "input", type: "date", name: "due_at" });
    this.labels = h("input", { class: "input", name: "labels", autocomplete: "off", placeholder: "bug, frontend" });
    this.assignees = h("div", { class: "assignee-list" });
    this.notice = h("p", { class: "dialog-notice", role: "status", hidden: true });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.conflict = h("div", { class: "conflict", role: "alert", hidden: true, "data-testid": "conflict" });
    this.saveButton = h("button", { type: "submit", class: "btn btn-primary" }, "Save");
    this.deleteButton = h("button", { type: "button", class: "btn btn-danger-ghost" }, "Delete");
    this.archiveButton = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "archive-task",
                                       onclick: () => this.archive() }, "Archive");
    this.confirmRow = h("div", { class: "confirm-row", hidden: true }, h("span", {}, "Move this task to the trash?"),
      h("button", { type: "button", class: "btn btn-danger", onclick: () => this.remove() }, "Delete task"),
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => this.showConfirm(false) }, "Keep it"));
    this.form = h("form", { class: "task-form" },
      labelled("Title", this.title),
      this.descriptionField = labelled("Description", this.description),
      h("div", { class: "field-grid" }, labelled("Column", this.status), labelled("Priority", this.priority),
        labelled("Due date", this.due)),
      labelled("Labels", this.labels, "Separate labels with commas."),
      h("fieldset", { class: "field" }, h("legend", { class: "field-label" }, "Assignees"), this.assignees),
      this.notice, this.error, this.conflict, this.confirmRow,
      h("div", { class: "dialog-actions" }, this.deleteButton, this.archiveButton, h("span", { class: "spacer" }),
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => this.close() }, "Cancel"), this.saveButton));
    this.element = h("dialog", { class: "dialog task-dialog", "aria-labelledby": this.heading.id, "data-testid": "task-dialog" },
      h("div", { class: "dialog-head" }, this.heading, (this.watch = new WatchToggle("task")).element,
        h("button", { type: "button", class: "btn-icon", "aria-label": "Close", onclick: () => this.close() }, "×")),
      h("div", { class: "task-body" }, this.form,
        this.extras = h("div", { class: "task-extras" }, this.checklist.element, this.repeat.element, this.attachments.element,
          this.thread.element, this.history.element)));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    this.deleteButton.addEventListener("click", () => this.showConfirm(true));
    this.element.addEventListener("close", () => {
      this.stopEditor();
      this.task = null;
      this.thread.close();
      this.history.close();
      this.attachments.close();
      this.checklist.close();
      this.repeat.close();
    });
  }

  get openTaskId() {
    return this.element.open ? this.task?.id || null : null;
  }

  openNew(column) {
    this.stopEditor();
    this.task = null;
    this.watch.hide();
    this.show({ title: "", description: "", status: column, priority: "medium", due_at: null, labels: [], assignees: [] },
              "New task");
  }

  open(taskId) {
    const task = this.state.tasks.get(taskId);
    if (!task) return;
    this.task = task;
    this.changedBy = null;
    this.show(task, this.state.canEdit ? "Edit task" : "Task");
    this.startEditor(task);
    this.history.open(taskId);
    this.checklist.open(task);
    // A delete or archive from this dialog waits for these reads: sent meanwhile, it could
    // reach the server first and turn them into 404s for a task the reader still shows.
    this.loaded = Promise.allSettled([
      this.thread.open(taskId), this.attachments.open(taskId),
      this.watch.load(`/tasks/${encodeURIComponent(taskId)}/watch`), this.repeat.open(taskId),
    ]);
  }

  /** An existing task's description is edited live with everyone who has it open, and
   * saved as it is typed: the form's Save leaves it alone, unless no live channel could
   * open it (offline, event streams) and it was edited as plain text. */
  startEditor(task) {
    this.stopEditor();
    if (!this.live) return;
    this.editor = new DescriptionEditor({ live: this.live, taskId: task.id, me: this.state.me,
                                          initial: task.description, label: "Description", editable: this.state.canEdit });
    this.description.replaceWith(this.editor.element);
    this.descriptionField.querySelector("label").htmlFor = this.editor.textarea.id = uid("description");
  }

  stopEditor() {
    if (!this.editor) return;
    this.editor.element.replaceWith(this.description);
    this.editor.destroy();
    this.editor = null;
  }

  show(values, heading) {
    this.heading.textContent = heading;
    this.refreshColumns();
    this.fill(values);
    const editable = this.state.canEdit;
    for (const control of this.form.querySelectorAll("input, textarea, select")) control.disabled = !editable;
    this.saveButton.hidden = !editable;
    this.deleteButton.hidden = !editable || !this.task;
    this.archiveButton.hidden = !editable || !this.task;
    for (const node of [this.notice, this.error, this.conflict, this.confirmRow]) node.hidden = true;
    this.saveButton.disabled = false;
    this.extras.hidden = !this.task;
    if (!this.element.open) this.element.showModal();
    this.title.focus();
  }

  fill(values) {
    this.title.value = values.title;
    this.description.value = values.description;
    this.status.value = values.status;
    this.priority.value = values.priority;
    this.due.value = dueDateInputValue(values.due_at);
    this.labels.value = values.labels.join(", ");
    const members = [...this.state.members.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.assignees.replaceChildren(...members.map((member) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: member.user_id, checked: values.assignees.includes(member.user_id),
                   disabled: !this.state.canEdit }),
      h("span", {}, member.user_id === this.state.me.id ? `${member.name} (you)` : member.name))));
  }

  read() {
    const labels = [...new Set(this.labels.value.split(",").map((l) => l.trim()).filter(Boolean))];
    return {
      title: this.title.value.trim(), description: this.descriptionValue(), status: this.status.value,
      priority: this.priority.value, due_at: this.due.value ? `${this.due.value}T00:00:00.000000Z` : null, labels,
      assignees: [...this.assignees.querySelectorAll("input:checked")].map((box) => box.value),
    };
  }

  descriptionValue() {
    if (!this.editor) return this.description.value;
    return this.editor.plain ? this.editor.value : this.task.description;
  }

  close() {
    if (this.element.open) this.element.close();
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
    this.saveButton.disabled = false;
  }

  async save() {
    const values = this.read();
    if (!values.title) return this.fail("Give the task a title.");
    this.error.hidden = true;
    this.saveButton.disabled = true;
    try {
      if (!this.task) {
        const { due_at: due, ...rest } = values;
        const created = await api("POST", `/boards/${this.state.board.id}/tasks`, { body: { ...rest, ...(due ? { due_at: due } : {}) } });
        this.onSaved(created, { created: true, from: null });
        return this.close();
      }
      // Only the fields I changed since the dialog opened: the rest is not mine to overwrite.
      return await this.patch(this.task.version, changesBetween(this.task, values));
    } catch (error) {
      if (error.status === 409 && error.body?.current) return this.resolve(error.body.current, changesBetween(this.task, values));
      return this.fail(error.message);
    }
  }

  /** Save `changes` made on the task as of `version` (`before`: that task, for undo). */
  async patch(version, changes, before = this.task) {
    if (!Object.keys(changes).length) return this.close();
    const saved = await api("PATCH", `/tasks/${this.task.id}`, { body: { version, ...changes } });
    this.onSaved(saved, { before, changes, from: before.status });
    return this.close();
  }

  /** Undo an edit: `changes` (the old values) saved on `task` (my edit's result) as a new
   * edit; a conflict gets the same table as any other save. */
  async saveUndo(task, changes) {
    this.task = task;
    try {
      await this.patch(task.version, changes, task);
    } catch (error) {
      if (error.status !== 409 || !error.body?.current) throw error;
      this.open(task.id);
      this.task = task;
      await this.resolve(error.body.current, changes);
    }
  }

  async archive() {
    const task = this.task;
    await this.loaded;
    try {
      const archived = await api("POST", `/tasks/${task.id}/archive`, { body: { version: task.version } });
      this.onArchived(archived);
      this.close();
    } catch (error) {
      if (error.status === 409 && error.body?.current) {
        this.onSaved(error.body.current);
        return this.fail("Someone changed this task meanwhile; check it and archive again.");
      }
      this.fail(error.message);
    }
    return undefined;
  }

  /** A 409: someone saved first. Where their edit and mine touch different fields both are
   * kept at once; where they touch the same field, the user chooses. */
  async resolve(current, mine) {
    this.onSaved(current); // the board shows their version meanwhile
    // A clash: a field both of us changed, to different values.
    const clashing = Object.keys(mine).filter((field) =>
      !same(field, this.task[field], current[field]) && !same(field, current[field], mine[field]));
    if (!clashing.length) {
      try {
        return await this.patch(current.version, mine, current);
      } catch (error) {
        if (error.status === 409 && error.body?.current) return this.resolve(error.body.current, mine);
        return this.fail(error.message);
      }
    }
    return this.showConflict(current, mine, clashing);
  }

  showConflict(current, mine, clashing) {
    const theirOthers = FIELDS.filter((f) => !(f in mine) && !same(f, this.task[f], current[f])).map((f) => FIELD_NAMES[f]);
    const rows = clashing.map((field) =>
      h("tr", {}, h("th", { scope: "row" }, FIELD_NAMES[field]), h("td", {}, this.display(field, current[field])),
        h("td", {}, this.display(field, mine[field]))));
    const keepMine = h("button", { type: "button", class: "btn btn-primary" }, "Keep mine");
    const takeTheirs = h("button", { type: "button", class: "btn btn-ghost" }, "Use theirs");
    keepMine.addEventListener("click", async () => {
      keepMine.disabled = true;
      try {
        await this.patch(current.version, mine, current);
      } catch (error) {
        if (error.status === 409 && error.body?.current) return this.resolve(error.body.current, mine);
        this.fail(error.message);
      }
      return undefined;
    });
    takeTheirs.addEventListener("click", () => {
      this.task = current;
      this.fill(current);
      this.editor?.replacePlain(current.description);
      this.conflict.hidden = true;
      this.saveButton.disabled = false;
      this.title.focus();
    });
    // replaceChildren would print a null; h() skips it, so build the parts with a filter.
    const who = this.changedBy?.version === current.version ? this.changedBy.name : "Someone else";
    this.conflict.replaceChildren(...[
      h("h3", {}, `${who} saved this task first`),
      h("p", {}, "You both changed the fields below. Keep your version, or use theirs and carry on editing."),
      h("div", { class: "table-scroll" }, h("table", { class: "conflict-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Theirs"),
          h("th", { scope: "col" }, "Yours"))),
        h("tbody", {}, rows))),
      theirOthers.length ? h("p", { class: "small muted" }, `Their other changes stay either way: ${theirOthers.join(", ")}.`) : null,
      h("div", { class: "conflict-actions" }, takeTheirs, keepMine)].filter(Boolean));
    this.notice.hidden = true;
    this.conflict.hidden = false;
    this.saveButton.disabled = true;
    keepMine.focus();
  }

  display(field, value) {
    if (field === "status") return columnLabel(value, this.state.board);
    if (field === "due_at") return value ? formatDueDate(value) : "—";
    if (field === "labels") return value.length ? value.join(", ") : "—";
    if (field === "assignees") return value.length ? value.map((id) => this.state.memberName(id)).join(", ") : "—";
    if (field === "description") return value ? (value.length > 140 ? `${value.slice(0, 140)}…` : value) : "—";
    return value || "—";
  }

  showConfirm(visible) {
    this.confirmRow.hidden = !visible;
    this.deleteButton.hidden = visible;
  }

  async remove() {
    const task = this.task;
    await this.loaded;
    try {
      await api("DELETE", `/tasks/${task.id}`);
      this.onDeleted(task.id, task);
      this.close();
    } catch (error) {
      this.fail(error.message);
    }
  }

  /** The board's columns as choices, keeping the one chosen while it still exists. */
  refreshColumns() {
    const { columns } = this.state.board;
    const chosen = this.status.value;
    this.status.replaceChildren(...columns.map((c) => h("option", { value: c }, columnLabel(c, this.state.board))));
    this.status.value = columns.includes(chosen) ? chosen : columns[0];
  }

  /** A live board event: comments and history of the open task follow it, and its columns. */
  receive(message) {
    if (this.element.open && (message.event.startsWith("column.") || message.event === "board.updated")) {
      this.refreshColumns();
    }
    if (!this.openTaskId) return;
    if (message.event.startsWith("checklist_item.") && message.data.task_id === this.openTaskId) {
      this.follow(message.data.task);
      this.checklist.show(message.data.task);
    }
    this.thread.receive(message);
    this.history.receive(message);
    this.attachments.receive(message);
  }

  /** The next version of the open task, if it changed none of the fields I edit (a checklist
   * change): saving then needs no conflict round. */
  follow(task) {
    if (this.task?.id === task.id && task.version === this.task.version + 1 && FIELDS.every((f) => same(f, this.task[f], task[f]))) {
      this.task = task;
    }
  }

  /** A live event by someone else touched the task being edited (`who`: their name). */
  noteLiveChange(taskId, deleted, who = "Someone else", version = null) {
    if (this.openTaskId !== taskId || !this.conflict.hidden) return;
    const latest = this.state.tasks.get(taskId);
    if (!deleted && this.editor && !this.editor.plain && latest && FIELDS.every((f) => f === "description" || same(f, this.task[f], latest[f]))) {
      // Only the co-edited description moved on (it is live here already): nothing to warn of.
      this.task = latest;
      return;
    }
    this.changedBy = { version, name: who };
    this.notice.textContent = deleted
      ? `${who} deleted this task.`
      : `${who} just changed this task. Saving will ask which version to keep.`;
    this.notice.hidden = false;
    if (deleted) this.saveButton.disabled = true;
  }
}
