// Keyboard shortcuts on the board: "/" search, "n" new task, "?" this list. Only when no
// field has focus and no dialog is open, so typing a "/" or an "n" anywhere still types it.

import { h, uid } from "../dom.js";

const SHORTCUTS = [["/", "Search tasks"], ["n", "New task"], ["?", "Show these shortcuts"],
                   ["Space", "Pick up the focused card's ⠿ handle; arrows move it, Enter drops, Escape cancels"],
                   ["Ctrl+Enter", "Send a comment"], ["Ctrl+Z", "Undo your last change on this board"], ["Escape", "Close a dialog or list"]];

function typing(target) {
  return target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

export class BoardShortcuts {
  constructor({ focusSearch, newTask }) {
    const titleId = uid("shortcuts-title");
    this.element = h("dialog", { class: "dialog shortcuts-dialog", "aria-labelledby": titleId, "data-testid": "shortcuts" },
      h("div", { class: "dialog-head" }, h("h2", { class: "dialog-title", id: titleId }, "Keyboard shortcuts"),
        h("button", { type: "button", class: "btn-icon", "aria-label": "Close", onclick: () => this.element.close() }, "×")),
      h("dl", { class: "shortcut-list" }, SHORTCUTS.flatMap(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])));
    this.listener = (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (document.querySelector("dialog[open]")) return;
      const action = { "/": focusSearch, n: newTask, "?": () => this.element.showModal() }[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    };
    document.addEventListener("keydown", this.listener);
  }

  destroy() {
    document.removeEventListener("keydown", this.listener);
  }
}
