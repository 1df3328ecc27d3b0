// The checklist in the task dialog: tick, add, edit (click the text), reorder (up and down)
// and remove items, with a progress bar. Each change is its own request
// (/tasks/{id}/checklist…) that needs no version, so ticking never clashes with someone
// editing the task; the board's events keep the list live for everyone. Each change of mine
// is announced as a bubbling "checklist-change" event, for undo (undo.js).

import { api } from "../api.js";
import { confirmInPlace, h, uid } from "../dom.js";

export class ChecklistEditor {
  /** @param {{state, onChanged: (task) => void}} options — onChanged gets each newer task. */
  constructor({ state, onChanged }) {
    this.state = state;
    this.onChanged = onChanged;
    this.task = null;
    this.editing = null; // the id of the item whose text is being edited
    this.heading = h("h3", { class: "section-title", id: uid("checklist-title") }, "Checklist");
    this.progressText = h("span", { class: "checklist-progress-text", "data-testid": "checklist-progress-text" });
    this.bar = h("progress", { class: "checklist-bar", max: 1, value: 0, "aria-labelledby": this.heading.id });
    this.list = h("ol", { class: "checklist", "data-testid": "checklist", "aria-labelledby": this.heading.id });
    this.input = h("input", { class: "input", maxlength: 500, autocomplete: "off", placeholder: "Add an item",
                              "aria-label": "New checklist item", "data-testid": "checklist-input" });
    this.add = h("button", { type: "submit", class: "btn btn-ghost btn-small" }, "Add");
    this.form = h("form", { class: "checklist-form" }, this.input, this.add);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.create(); });
    this.element = h("section", { class: "task-section checklist-section", "aria-labelledby": this.heading.id },
      h("div", { class: "checklist-head" }, this.heading, this.progressText), this.bar, this.list, this.form);
  }

  open(task) {
    this.task = task;
    this.editing = null;
    this.input.value = "";
    this.render();
  }

  close() {
    this.task = null;
  }

  /** A newer version of the open task (from an event or an answer): redraw its checklist. */
  show(task) {
    if (!this.task || task.id !== this.task.id || task.version < this.task.version) return;
    this.task = task;
    this.render();
  }

  get items() {
    return this.task?.checklist || [];
  }

  render() {
    const items = this.items;
    const done = items.filter((item) => item.done).length;
    this.progressText.textContent = items.length ? `${done}/${items.length}` : "";
    this.bar.hidden = !items.length;
    this.bar.value = items.length ? done / items.length : 0;
    this.form.hidden = !this.state.canEdit;
    const focused = document.activeElement;
    const focusKey = this.list.contains(focused) ? focused.dataset.focusKey : null;
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "muted small" }, "No items yet."));
    } else {
      this.list.replaceChildren(...items.map((item, index) => this.row(item, index, items.length)));
    }
    if (focusKey) this.list.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
  }

  row(item, index, count) {
    const editable = this.state.canEdit;
    const box = h("input", { type: "checkbox", checked: item.done, disabled: !editable, "data-focus-key": `tick-${item.id}`,
                             "aria-label": item.text, "data-testid": "checklist-tick" });
    box.addEventListener("change", () => this.change(item, { done: box.checked }));
    const text = this.editing === item.id ? this.editor(item)
      : h("button", { type: "button", class: "checklist-text", disabled: !editable, "data-focus-key": `text-${item.id}`,
                      "data-testid": "checklist-text",
                      title: editable ? "Edit" : null, onclick: () => this.startEdit(item.id) }, item.text);
    const controls = editable ? h("span", { class: "checklist-controls" },
      h("button", { type: "button", class: "btn-icon", "aria-label": `Move ${item.text} up`, disabled: index === 0,
                    "data-focus-key": `up-${item.id}`, onclick: () => this.change(item, { position: index - 1 }) }, "↑"),
      h("button", { type: "button", class: "btn-icon", "aria-label": `Move ${item.text} down`, disabled: index === count - 1,
                    "data-focus-key": `down-${item.id}`, onclick: () => this.change(item, { position: index + 1 }) }, "↓"),
      this.removeButton(item)) : null;
    return h("li", { class: `checklist-item${item.done ? " checklist-item-done" : ""}`, "data-id": item.id,
                     "data-testid": "checklist-item" }, box, text, controls);
  }

  removeButton(item) {
    const remove = h("button", { type: "button", class: "btn-icon", "aria-label": `Remove ${item.text}`,
                                 "data-focus-key": `remove-${item.id}` }, "×");
    remove.addEventListener("click", () => confirmInPlace(remove, () => this.remove(item)));
    return remove;
  }

  editor(item) {
    const input = h("input", { class: "input input-compact", value: item.text, maxlength: 500,
                               "aria-label": "Edit the item", "data-focus-key": `editing-${item.id}` });
    const stop = () => { this.editing = null; this.render(); };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault(); // leaves the edit, not the dialog
        stop();
      } else if (event.key === "Enter") {
        event.preventDefault();
        const text = input.value.trim();
        this.editing = null;
        if (text && text !== item.text) this.change(item, { text });
        else stop();
      }
    });
    input.addEventListener("blur", () => { if (this.editing === item.id) stop(); });
    queueMicrotask(() => input.focus());
    return input;
  }

  startEdit(id) {
    this.editing = id;
    this.render();
  }

  async create() {
    const text = this.input.value.trim();
    if (!text || !this.task || this.add.disabled) return;
    this.add.disabled = true;
    this.input.value = ""; // now, not on the answer: the next item may be typed meanwhile
    const before = this.items;
    try {
      const task = await api("POST", `/tasks/${this.task.id}/checklist`, { body: { text } });
      this.adopt(task);
      const item = task.checklist.findLast((added) => added.text === text && !before.some((old) => old.id === added.id));
      if (item) this.announce({ task, item, index: task.checklist.indexOf(item), change: "add" });
    } catch (error) {
      if (!this.input.value) this.input.value = text;
      this.fail(error);
    } finally {
      this.add.disabled = false;
      this.input.focus();
    }
  }

  async change(item, body) {
    const index = this.indexOf(item);
    try {
      const task = await api("PATCH", `/tasks/${this.task.id}/checklist/${item.id}`, { body });
      this.adopt(task);
      this.announce({ task, item, index, change: body });
    } catch (error) {
      this.fail(error);
      this.render(); // the checkbox goes back to what the server holds
    }
  }

  async remove(item) {
    const { id } = this.task;
    const index = this.indexOf(item);
    try {
      await api("DELETE", `/tasks/${this.task.id}/checklist/${item.id}`);
      // The answer has no body; the event brings the new version. Until then, show it gone.
      this.task = { ...this.task, checklist: this.items.filter((other) => other.id !== item.id) };
      this.render();
      this.announce({ task: { id, version: null }, item, index, change: "remove" });
    } catch (error) {
      this.fail(error);
    }
  }

  adopt(task) {
    this.show(task);
    this.onChanged(task);
  }

  indexOf(item) {
    return this.items.findIndex((other) => other.id === item.id);
  }

  /** A change of mine succeeded: {task (after it), item (as it was), index (its place before), change}. */
  announce(detail) {
    this.element.dispatchEvent(new CustomEvent("checklist-change", { bubbles: true, detail }));
  }

  fail(error) {
    const note = h("li", { class: "form-error", role: "alert" }, `Couldn't save the checklist: ${error.message}`);
    this.list.append(note);
    setTimeout(() => note.remove(), 6000);
  }
}
