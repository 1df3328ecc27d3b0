// The kanban columns and their cards. Cards are kept by task id and updated in place, so a
// live change reorders or edits one node: focus, scroll and drag state survive.

import { avatar, colourSlot, columnLabel, flash, formatDueDate, h, isOverdue, svgIcon, uid } from "../dom.js";
import { attachmentChip, showCover } from "./attachments.js";

const PRIORITY_TEXT = { urgent: "Urgent", high: "High", medium: "Medium", low: "Low" };
const FLASH_CLASS = "card-flash";

export class ColumnsView {
  /** @param {{state, onOpenTask: (id) => void, onAddTask: (column) => void}} options */
  constructor({ state, onOpenTask, onAddTask, onLoadMore }) {
    this.state = state;
    this.onOpenTask = onOpenTask;
    this.onAddTask = onAddTask;
    this.onLoadMore = onLoadMore;
    this.cards = new Map();
    this.columns = new Map();
    this.element = h("div", { class: "columns", "data-testid": "columns" });
    this.element.addEventListener("click", (event) => this.handleClick(event));
  }

  handleClick(event) {
    // The whole card opens its task, not only the title; the grip is for moving.
    const card = event.target.closest(".card");
    if (card && !event.target.closest(".card-grip")) this.onOpenTask(card.dataset.id);
    const add = event.target.closest(".column-add");
    if (add) this.onAddTask(add.closest(".column").dataset.status);
    const more = event.target.closest(".column-more");
    if (more) this.onLoadMore(more.closest(".column").dataset.status);
  }

  ensureColumns(visibleColumns) {
    const wanted = this.state.board.columns;
    const current = [...this.columns.keys()];
    if (wanted.join("\n") !== current.join("\n")) {
      for (const [status, column] of this.columns) if (!wanted.includes(status)) column.section.remove();
      for (const status of wanted) {
        if (!this.columns.has(status)) this.columns.set(status, this.buildColumn(status));
        this.element.append(this.columns.get(status).section);
      }
      for (const status of current) if (!wanted.includes(status)) this.columns.delete(status);
    }
    for (const [status, column] of this.columns) {
      column.section.hidden = !visibleColumns.includes(status);
      column.add.hidden = !this.state.canEdit;
      nameColumn(column, columnLabel(status, this.state.board));
    }
  }

  buildColumn(status) {
    const titleId = uid("column");
    const count = h("span", { class: "column-count", "aria-label": "0 tasks" }, "0");
    const add = h("button", { type: "button", class: "column-add btn-icon" }, "+");
    const title = h("h2", { class: "column-title", id: titleId });
    const limit = h("p", { class: "column-limit", role: "status", "data-testid": "wip-warning", hidden: true });
    const list = h("ol", { class: "card-list", "data-status": status, "aria-labelledby": titleId });
    const empty = h("p", { class: "column-empty" }, "No tasks");
    const more = h("button", { type: "button", class: "btn btn-ghost btn-small column-more", hidden: true });
    const section = h("section", { class: "column", "data-status": status, "data-testid": `column-${status}` },
      h("header", { class: "column-head" }, title, count, add), limit, list, empty, more);
    return { section, list, count, add, empty, more, title, limit };
  }

  /** Reconcile the DOM with the state: `visible(task)` applies the filters. */
  render(visible, visibleColumns) {
    const focused = document.activeElement;
    this.ensureColumns(visibleColumns);
    const seen = new Set();
    for (const [status, column] of this.columns) {
      const tasks = this.state.tasksIn(status).filter(visible);
      tasks.forEach((task, index) => {
        seen.add(task.id);
        const card = this.cardFor(task);
        const at = column.list.children[index];
        if (at !== card) move(column.list, card, at || null);
      });
      while (column.list.children.length > tasks.length) column.list.lastElementChild.remove();
      const remaining = this.state.remaining(status);
      column.more.hidden = remaining === 0;
      column.more.textContent = remaining ? `Show more (${remaining.toLocaleString()} not loaded)` : "Show more";
      this.showLimit(status, column);
      showCount(column, tasks.length);
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.remove();
        this.cards.delete(id);
      }
    }
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
  }

  /** The column's work-in-progress limit beside its count, and a warning past it: every task
   * of the column counts (not only those the filters show), and so do pages not loaded yet. */
  showLimit(status, column) {
    const limit = this.state.board.wip_limits?.[status];
    const total = this.state.tasksIn(status).length + (this.state.remaining(status) || 0);
    const over = limit != null && total > limit;
    column.section.classList.toggle("column-over-limit", over);
    column.count.dataset.limit = limit ?? "";
    column.limit.hidden = !over;
    column.limit.textContent = over ? `Over the limit: ${total} tasks, limit ${limit}` : "";
  }

  /** Counts from the cards as they stand in the DOM: a keyboard move runs ahead of the state. */
  recount() {
    for (const column of this.columns.values()) showCount(column, column.list.querySelectorAll(":scope > .card").length);
  }

  cardFor(task) {
    let card = this.cards.get(task.id);
    if (!card) {
      card = h("li", { class: "card", "data-id": task.id, "data-testid": "card" });
      this.cards.set(task.id, card);
    }
    // The comment count changes without a new version of the task.
    const stamp = `${task.version}:${task.comment_count || 0}:${task.attachment_count || 0}:${task.attachment_cover}`;
    if (card.dataset.version !== stamp || card.dataset.members !== this.membersStamp()) {
      fillCard(card, task, this.state);
      card.dataset.version = stamp;
      card.dataset.members = this.membersStamp();
    }
    card.classList.toggle("card-readonly", !this.state.canEdit);
    return card;
  }

  // A card is redrawn when its task's version changes, or when something it shows beyond
  // the task does (member names, whether I may drag).
  membersStamp() {
    return `${this.state.members.size}:${this.state.canEdit}`;
  }

  /** A brief highlight on a card someone else just changed. */
  flash(taskId) {
    const card = this.cards.get(taskId);
    if (card) flash(card, FLASH_CLASS);
  }

  listFor(status) {
    return this.columns.get(status)?.list;
  }
}

/** A small speech bubble: the comment count's icon. */
function speechBubble() {
  return svgIcon("M2 3.5A1.5 1.5 0 0 1 3.5 2h9A1.5 1.5 0 0 1 14 3.5v6a1.5 1.5 0 0 1-1.5 1.5H7l-3 3v-3h-.5A1.5 1.5 0 0 1 2 9.5z");
}

function nameColumn(column, label) {
  if (column.title.textContent === label) return;
  column.title.textContent = label;
  column.add.setAttribute("aria-label", `Add a task to ${label}`);
  column.add.title = `Add a task to ${label}`;
}

function showCount(column, count) {
  // "50+" while the column has pages not loaded yet.
  const more = !column.more.hidden;
  const { limit } = column.count.dataset;
  column.count.textContent = `${count}${more ? "+" : ""}${limit ? ` / ${limit}` : ""}`;
  column.count.setAttribute("aria-label",
    `${count} task${count === 1 ? "" : "s"}${more ? " shown, more to load" : ""}${limit ? `, limit ${limit}` : ""}`);
  column.empty.hidden = count > 0 || more;
}

function move(list, card, before) {
  // moveBefore keeps focus and running animations where the browser has it.
  if (typeof list.moveBefore === "function" && card.isConnected && card.ownerDocument === list.ownerDocument) {
    try {
      list.moveBefore(card, before);
      return;
    } catch {
      // Falls through: moveBefore refuses some moves (e.g. across documents).
    }
  }
  list.insertBefore(card, before);
}

/** Update a card in place: its buttons persist, so a focused card keeps focus when a
 * live change or the answer to a move redraws it. */
function fillCard(card, task, state) {
  if (!card.firstChild) {
    card.append(
      h("div", { class: "card-top" },
        h("button", { type: "button", class: "card-open" }, h("span", { class: "card-title" })),
        h("button", { type: "button", class: "card-grip", "aria-describedby": "dnd-help",
                      title: "Drag, or press Space to move with the arrow keys" }, h("span", { "aria-hidden": "true" }, "⠿"))),
      h("div", { class: "card-meta" }, h("span", { class: "card-chips" }), h("span", { class: "avatars" })));
  }
  card.dataset.priority = task.priority;
  card.querySelector(".card-title").textContent = task.title;
  card.querySelector(".card-open").setAttribute("aria-label", `Open task: ${task.title}`);
  const grip = card.querySelector(".card-grip");
  grip.setAttribute("aria-label", `Move task: ${task.title}`);
  grip.hidden = !state.canEdit;
  const chips = [];
  if (task.priority !== "medium") {
    chips.push(h("span", { class: `chip prio prio-${task.priority}` }, PRIORITY_TEXT[task.priority]));
  }
  for (const label of task.labels) chips.push(h("span", { class: `chip label lc-${colourSlot(label)}` }, label));
  if (task.description.trim()) {
    chips.push(h("span", { class: "card-icon card-has-description", title: "Has a description", role: "img",
                           "aria-label": "Has a description" }, "≡"));
  }
  if (task.comment_count) {
    const words = `${task.comment_count} comment${task.comment_count === 1 ? "" : "s"}`;
    chips.push(h("span", { class: "card-icon card-comments", title: words, role: "img", "aria-label": words,
                           "data-testid": "comment-count" }, speechBubble(), String(task.comment_count)));
  }
  const attached = attachmentChip(task);
  if (attached) chips.push(attached);
  if (task.checklist?.length) {
    const done = task.checklist.filter((item) => item.done).length;
    const words = `Checklist: ${done} of ${task.checklist.length} done`;
    chips.push(h("span", { class: `card-icon card-checklist${done === task.checklist.length ? " card-checklist-done" : ""}`,
                           title: words, role: "img", "aria-label": words, "data-testid": "checklist-progress" },
      h("span", { "aria-hidden": "true" }, "☑"), `${done}/${task.checklist.length}`));
  }
  if (task.due_at) {
    const overdue = isOverdue(task.due_at) && task.status !== "done";
    chips.push(h("span", { class: `due${overdue ? " due-overdue" : ""}`, title: overdue ? "Overdue" : "Due date" },
      h("time", { datetime: task.due_at }, formatDueDate(task.due_at))));
  }
  const people = task.assignees.map((id) => state.members.get(id)).filter(Boolean);
  card.querySelector(".card-chips").replaceChildren(...chips);
  card.querySelector(".avatars").replaceChildren(
    ...people.map((member) => avatar({ id: member.user_id, name: member.name }, "avatar-small")));
  card.querySelector(".card-meta").hidden = !chips.length && !people.length;
  showCover(card, task);
}
