// Board settings (admins and owners): rename the board, edit its columns — free-text names,
// work-in-progress limits, order, add and remove — and, for owners, delete the board. Each
// change is saved at once as its own request; the board's events keep this dialog, the
// columns and everyone else's page live.

import { api } from "../api.js";
import { columnLabel, confirmInPlace, h, quoted, svgIcon, uid } from "../dom.js";
import { navigate } from "../router.js";
import { toast } from "../toast.js";
import { UndoManager } from "./undo.js";

const NAME_MAX = 60;
/** Three sliders: the settings button's icon. */
export function settingsIcon() {
  return svgIcon("M2 4h12M2 8h12M2 12h12", "icon icon-settings", [[5, 4, 1.8], [11, 8, 1.8], [7, 12, 1.8]]);
}

function limitValue(input) {
  const text = input.value.trim();
  return text ? Number.parseInt(text, 10) : null;
}

export class BoardSettings {
  constructor({ state }) {
    this.state = state;
    this.heading = h("h2", { class: "dialog-title", id: uid("settings-title") }, "Board settings");
    this.boardName = h("input", { class: "input", id: uid("board-name"), maxlength: 200, required: true, autocomplete: "off",
                                  "data-testid": "board-name-input" });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    const renameForm = h("form", { class: "settings-row" },
      h("label", { class: "visually-hidden", for: this.boardName.id }, "Board name"),
      this.boardName, h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Rename"));
    renameForm.addEventListener("submit", (event) => { event.preventDefault(); this.rename(); });
    this.list = h("ol", { class: "column-editor", "data-testid": "column-editor" });
    this.newName = h("input", { class: "input", maxlength: NAME_MAX, autocomplete: "off", placeholder: "e.g. Code Review",
                                "aria-label": "New column name", "data-testid": "new-column-name" });
    this.newLimit = h("input", { class: "input input-limit", type: "number", min: 1, max: 10000, placeholder: "No limit",
                                 "aria-label": "Work-in-progress limit of the new column" });
    const addForm = h("form", { class: "settings-row" }, this.newName, this.newLimit,
      h("button", { type: "submit", class: "btn btn-ghost btn-small" }, "Add column"));
    addForm.addEventListener("submit", (event) => { event.preventDefault(); this.addColumn(); });
    this.deleteButton = h("button", { type: "button", class: "btn btn-danger-ghost", "data-testid": "delete-board",
                                      "aria-label": "Delete this board" }, "Delete board");
    this.deleteButton.addEventListener("click", () => confirmInPlace(this.deleteButton, () => this.deleteBoard()));
    this.danger = h("section", { class: "task-section" }, h("h3", { class: "section-title" }, "Delete"),
      h("p", { class: "small muted" },
        "Moves the board to the trash for everyone, with its tasks and history. Its owners can restore it from the boards page until the trash is emptied."),
      this.deleteButton);
    this.element = h("dialog", { class: "dialog settings-dialog", "aria-labelledby": this.heading.id,
                                 "data-testid": "board-settings" },
      h("div", { class: "dialog-head" }, this.heading,
        h("button", { type: "button", class: "btn-icon", "aria-label": "Close", onclick: () => this.close() }, "×")),
      h("div", { class: "settings-body" },
        h("section", { class: "task-section" }, h("h3", { class: "section-title" }, "Name"), renameForm),
        h("section", { class: "task-section" }, h("h3", { class: "section-title" }, "Columns"),
          h("p", { class: "small muted" },
            "Name columns as you like. A limit warns when a column holds more tasks than it; nothing is refused."),
          this.list, addForm),
        this.danger, this.error));
  }

  get path() {
    return `/boards/${this.state.board.id}`;
  }

  open() {
    this.boardName.value = this.state.board.name;
    this.error.hidden = true;
    if (!this.element.open) this.element.showModal();
    this.render();
    this.boardName.focus();
  }

  close() {
    if (this.element.open) this.element.close();
  }

  /** The board changed (anyone's change, live): redraw, keeping what is being typed. */
  render() {
    if (!this.element.open) return;
    const board = this.state.board;
    if (document.activeElement !== this.boardName) this.boardName.value = board.name;
    this.danger.hidden = this.state.role !== "owner";
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const typed = focused?.tagName === "INPUT" ? focused.value : null;
    const focusKey = focused?.dataset.focusKey;
    this.list.replaceChildren(...board.columns.map((key, index) => this.row(board, key, index)));
    const again = focusKey && this.list.querySelector(`[data-focus-key="${focusKey}"]`);
    if (again) {
      if (typed !== null) again.value = typed;
      again.focus();
    }
  }

  row(board, key, index) {
    const shown = columnLabel(key, board);
    const count = this.state.tasksIn(key).length + (this.state.remaining(key) || 0);
    const name = h("input", { class: "input input-compact", value: shown, maxlength: NAME_MAX, "aria-label": `Name of ${shown}`,
                              "data-focus-key": `name-${key}`, "data-testid": "column-name" });
    const save = () => {
      const text = name.value.trim();
      if (text && text !== shown) this.changeColumn(key, { name: text });
      else name.value = shown;
    };
    name.addEventListener("change", save);
    name.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); save(); } });
    const limit = h("input", { class: "input input-compact input-limit", type: "number", min: 1, max: 10000,
                               value: board.wip_limits?.[key] ?? "", placeholder: "No limit", "aria-label": `Limit of ${shown}`,
                               "data-focus-key": `limit-${key}`, "data-testid": "column-limit" });
    limit.addEventListener("change", () => this.changeColumn(key, { wip_limit: limitValue(limit) }));
    const last = board.columns.length - 1;
    const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Remove ${shown}`,
                                 "data-focus-key": `remove-${key}`, disabled: !last });
    remove.textContent = "Remove";
    remove.addEventListener("click", () => confirmInPlace(remove, () => this.removeColumn(key)));
    return h("li", { class: "column-editor-row", "data-key": key },
      name, limit,
      h("span", { class: "small muted column-editor-count" }, `${count} task${count === 1 ? "" : "s"}`),
      h("button", { type: "button", class: "btn-icon", "aria-label": `Move ${shown} left`, disabled: index === 0,
                    "data-focus-key": `left-${key}`, onclick: () => this.changeColumn(key, { position: index - 1 }) }, "←"),
      h("button", { type: "button", class: "btn-icon", "aria-label": `Move ${shown} right`, disabled: index === last,
                    "data-focus-key": `right-${key}`, onclick: () => this.changeColumn(key, { position: index + 1 }) }, "→"),
      remove);
  }

  async attempt(action) {
    this.error.hidden = true;
    try {
      await action();
      return true;
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      this.render(); // back to what the server holds
      return false;
    }
  }

  rename() {
    const name = this.boardName.value.trim();
    if (!name || name === this.state.board.name) return undefined;
    return this.attempt(() => api("PATCH", this.path, { body: { name } }));
  }

  changeColumn(key, body) {
    return this.attempt(() => api("PATCH", `${this.path}/columns/${encodeURIComponent(key)}`, { body }));
  }

  removeColumn(key) {
    return this.attempt(() => api("DELETE", `${this.path}/columns/${encodeURIComponent(key)}`));
  }

  async addColumn() {
    const name = this.newName.value.trim();
    if (!name) return;
    const body = { name, ...(limitValue(this.newLimit) ? { wip_limit: limitValue(this.newLimit) } : {}) };
    if (await this.attempt(() => api("POST", `${this.path}/columns`, { body }))) {
      this.newName.value = "";
      this.newLimit.value = "";
      this.newName.focus();
    }
  }

  async deleteBoard() {
    const { id, name } = this.state.board;
    if (await this.attempt(() => api("DELETE", this.path))) {
      this.close();
      navigate("/");
      // The toast outlives the board's page; Undo restores the board from the trash.
      new UndoManager({ single: true }).record(`Moved ${quoted(name)} to the trash`, async () => {
        await api("POST", `/boards/trash/${id}/restore`);
        toast(`Restored ${quoted(name)}.`);
      });
    }
  }
}
