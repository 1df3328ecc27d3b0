// Search and filters (status, label, assignee, "mine"). They live in the URL query string,
// so a filtered view can be shared or reloaded, and they are applied to the board in
// memory: a live change enters or leaves the filtered view at once.

import { columnLabel, h, uid } from "../dom.js";

const KEYS = ["q", "status", "label", "assignee", "mine"];

export function filtersFromQuery(query) {
  const values = Object.fromEntries(KEYS.map((key) => [key, query.get(key) || ""]));
  values.mine = values.mine === "1" ? "1" : "";
  return values;
}

export function filtersToQuery(values) {
  const query = new URLSearchParams();
  for (const key of KEYS) if (values[key]) query.set(key, values[key]);
  return query;
}

export function isFiltering(values) {
  return KEYS.some((key) => values[key]);
}

/** The words of a text as search compares them: runs of letters and digits, lower case,
 * accents removed (SQLite's unicode61 tokenizer with remove_diacritics, MongoDB's \w). */
export function searchWords(text) {
  return (text || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** Does some word of `text` start with `prefix` (already one search word)? */
export function startsAWord(text, prefix) {
  return searchWords(text).some((word) => word.startsWith(searchWords(prefix)[0] || ""));
}

/** The API's search rule (GET /boards/{id}/tasks?q=), so a view filtered here and a list
 * asked of the server agree: title and description, every word whole but the last, which
 * may be the start of a word ("ship ann" finds "Ship the announcement"). */
export function textMatches(task, q) {
  const wanted = searchWords(q);
  if (!wanted.length) return true;
  const words = new Set(searchWords(`${task.title} ${task.description}`));
  const last = wanted.pop();
  return wanted.every((word) => words.has(word)) && [...words].some((word) => word.startsWith(last));
}

/** Does a task pass the filters? */
export function taskMatches(task, values, meId) {
  if (values.status && task.status !== values.status) return false;
  if (values.label && !task.labels.includes(values.label)) return false;
  if (values.assignee && !task.assignees.includes(values.assignee)) return false;
  if (values.mine && !task.assignees.includes(meId)) return false;
  return !values.q || textMatches(task, values.q);
}

function select(label, name, testId) {
  const id = uid("filter");
  const control = h("select", { class: "input input-compact", id, name, "data-testid": testId });
  return { control, node: h("div", { class: "filter" }, h("label", { class: "filter-label", for: id }, label), control) };
}

export class FilterBar {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.values = filtersFromQuery(new URLSearchParams());
    const searchId = uid("search");
    this.search = h("input", { class: "input", type: "search", id: searchId, name: "q", placeholder: "Search tasks",
                               autocomplete: "off", "data-testid": "search" });
    this.status = select("Status", "status", "filter-status");
    this.label = select("Label", "label", "filter-label");
    this.assignee = select("Assignee", "assignee", "filter-assignee");
    this.mine = h("input", { type: "checkbox", name: "mine", "data-testid": "filter-mine" });
    this.summary = h("span", { class: "filter-summary", "aria-live": "polite" });
    this.clear = h("button", { type: "button", class: "btn btn-ghost btn-small", hidden: true }, "Clear filters");
    // On a phone the filters fold away behind this button (CSS shows it only there).
    const moreId = uid("filters");
    this.toggle = h("button", { type: "button", class: "btn btn-small filters-button", "aria-expanded": "false",
                                "aria-controls": moreId }, "Filters");
    this.element = h("form", { class: "filter-bar", role: "search", "aria-label": "Filter tasks" },
      h("div", { class: "filter filter-search" },
        h("label", { class: "visually-hidden", for: searchId }, "Search tasks"), this.search, this.toggle),
      h("div", { class: "filter-more", id: moreId },
        this.status.node, this.label.node, this.assignee.node,
        h("label", { class: "filter filter-mine" }, this.mine, h("span", {}, "Assigned to me"))),
      h("div", { class: "filter-end" }, this.summary, this.clear));
    this.toggle.addEventListener("click", () => {
      const open = this.element.classList.toggle("is-open");
      this.toggle.setAttribute("aria-expanded", String(open));
    });
    this.element.addEventListener("submit", (event) => event.preventDefault());
    this.element.addEventListener("input", () => this.read());
    this.element.addEventListener("change", () => this.read());
    this.clear.addEventListener("click", () => this.set(filtersFromQuery(new URLSearchParams()), true));
  }

  read() {
    this.values = {
      q: this.search.value.trim(), status: this.status.control.value, label: this.label.control.value,
      assignee: this.assignee.control.value, mine: this.mine.checked ? "1" : "",
    };
    this.showActive();
    this.onChange(this.values);
  }

  showActive() {
    this.clear.hidden = !isFiltering(this.values);
    const active = ["status", "label", "assignee", "mine"].filter((key) => this.values[key]).length;
    this.toggle.textContent = active ? `Filters (${active})` : "Filters";
  }

  /** Show `values` in the controls (from the URL), optionally telling the board. */
  set(values, notify = false) {
    this.values = { ...values };
    this.search.value = values.q;
    this.mine.checked = values.mine === "1";
    for (const key of ["status", "label", "assignee"]) this[key].control.value = values[key];
    this.showActive();
    if (notify) this.onChange(this.values);
  }

  /** Refresh the choices from the board; a value from the URL stays selectable even if no
   * task has it yet, so the filter is not silently dropped. */
  setOptions({ board, labels, members }) {
    fill(this.status.control, "All columns", board.columns.map((c) => [c, columnLabel(c, board)]), this.values.status);
    fill(this.label.control, "Any label", labels.map((l) => [l, l]), this.values.label);
    fill(this.assignee.control, "Anyone", members.map((m) => [m.user_id, m.name]), this.values.assignee);
  }

  /** `partial`: some columns have pages not loaded yet, which the filters have not seen. */
  showCount(shown, total, partial = false) {
    this.summary.textContent = isFiltering(this.values) ? `${shown} of ${total}${partial ? " loaded" : ""} tasks` : "";
  }
}

function fill(control, anyText, options, current) {
  const all = [["", anyText], ...options];
  if (current && !options.some(([value]) => value === current)) all.push([current, current]);
  const signature = JSON.stringify(all);
  if (control.dataset.signature !== signature) {
    control.replaceChildren(...all.map(([value, text]) => h("option", { value }, text)));
    control.dataset.signature = signature;
  }
  control.value = current;
}
