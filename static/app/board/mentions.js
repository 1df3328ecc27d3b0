// @mention autocomplete on a textarea (the WAI-ARIA combobox pattern with a listbox popup):
// typing "@" and the start of a member's name or email lists the matching members; ↑ ↓
// choose, Enter or Tab inserts "@Name ", Escape closes the list. The server recognises
// "@<name>" and "@<email>" of a member (app/services/comments.py), so the name is inserted.

import { avatar, h, uid } from "../dom.js";
import { startsAWord } from "./filters.js";

const MAX_OPTIONS = 6;
// "@" at the start or after a non-word character, then the query up to the caret.
const TRIGGER = /(?:^|[^\w@])@([^\s@][^@\n]{0,40}|)$/u;

/** "@bo", "@oka", "@bob o" and "@bob.ok" all find Bob Okafor; "@bob okafor can you…"
 * (text typed after a finished mention) finds nobody, so the list closes. */
function matches(member, query) {
  if (!query) return true;
  const name = member.name.toLowerCase();
  if (name.startsWith(query) || member.email.toLowerCase().startsWith(query)) return true;
  return !/\s/.test(query) && startsAWord(member.name, query);
}

export class MentionPicker {
  /** @param {HTMLTextAreaElement} input  @param {() => Array<{user_id, name, email}>} members */
  constructor(input, members) {
    this.input = input;
    this.members = members;
    this.options = [];
    this.active = 0;
    this.start = -1; // where the "@" is in the text
    this.element = h("ul", { class: "mention-list", role: "listbox", id: uid("mentions"), hidden: true,
                             "aria-label": "Members to mention", "data-testid": "mention-list" });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.element.id);
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("input", () => this.update());
    input.addEventListener("keydown", (event) => this.keydown(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 100));
    // mousedown, not click: choosing with the mouse must not take focus from the textarea.
    this.element.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[role=option]");
      if (!option) return;
      event.preventDefault();
      this.choose(Number(option.dataset.index));
    });
  }

  get open() {
    return !this.element.hidden;
  }

  update() {
    const before = this.input.value.slice(0, this.input.selectionStart);
    const match = TRIGGER.exec(before);
    if (!match) return this.close();
    const query = match[1].toLowerCase();
    this.start = before.length - match[1].length - 1;
    this.options = this.members()
      .filter((member) => matches(member, query))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, MAX_OPTIONS);
    if (!this.options.length) return this.close();
    this.active = 0;
    this.render();
    return undefined;
  }

  render() {
    this.element.replaceChildren(...this.options.map((member, index) => h("li", {
      role: "option", id: `${this.element.id}-${index}`, class: "mention-option", "data-index": index,
      "aria-selected": String(index === this.active),
    }, avatar({ id: member.user_id, name: member.name }, "avatar-small"),
    h("span", { class: "mention-name" }, member.name), h("span", { class: "mention-email" }, member.email))));
    this.element.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `${this.element.id}-${this.active}`);
  }

  keydown(event) {
    if (!this.open) return;
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step) {
      event.preventDefault();
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      this.choose(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault(); // closes the list, not the dialog
      event.stopPropagation();
      this.close();
    }
  }

  choose(index) {
    const member = this.options[index];
    if (!member) return;
    const caret = this.input.selectionStart;
    const text = this.input.value;
    const inserted = `@${member.name} `;
    this.input.value = text.slice(0, this.start) + inserted + text.slice(caret);
    const at = this.start + inserted.length;
    this.input.setSelectionRange(at, at);
    this.close();
    this.input.focus();
  }

  close() {
    if (this.element.hidden) return;
    this.element.hidden = true;
    this.element.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
