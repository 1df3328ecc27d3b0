// Moving cards: pointer drag and drop (mouse anywhere on a card, touch on its grip) and the
// keyboard (focus a card's grip, Space or Enter to pick it up, arrow keys, Enter to drop,
// Escape to cancel). Both end in onDrop(taskId, status, beforeId, afterId), where before is
// the card just above the drop point and after the card just below, as the move API takes.

import { announce, h } from "../dom.js";

const DRAG_THRESHOLD_PX = 6;
const EDGE_SCROLL_PX = 48;

export class DragAndDrop {
  constructor(root, scroller, { enabled, onDrop, onSettle, onShift }) {
    this.root = root;
    this.scroller = scroller;
    this.enabled = enabled;
    this.onDrop = onDrop;
    this.onSettle = onSettle; // a move ended, dropped or not: held renders may run
    this.onShift = onShift; // a card moved in the DOM ahead of the state (column counts)
    this.pointer = null; // {card, x, y, dragging, ghost, placeholder, dx, dy}
    this.grabbed = null; // {card, origin}
    this.movingFocus = false;
    this.listeners = [
      [root, "pointerdown", (event) => this.pointerDown(event)],
      [root, "keydown", (event) => this.keyDown(event)],
      [root, "focusout", (event) => this.focusOut(event)],
      [document, "pointermove", (event) => this.pointerMove(event)],
      [document, "pointerup", (event) => this.pointerUp(event)],
      [document, "pointercancel", () => this.cancelPointer()],
      [document, "keydown", (event) => { if (event.key === "Escape" && this.pointer?.dragging) this.cancelPointer(); }],
    ];
    for (const [target, type, listener] of this.listeners) target.addEventListener(type, listener);
  }

  get busy() {
    return Boolean(this.pointer || this.grabbed);
  }

  destroy() {
    this.cancelPointer();
    for (const [target, type, listener] of this.listeners) target.removeEventListener(type, listener);
  }

  // -- pointer ---------------------------------------------------------------------------
  pointerDown(event) {
    const card = event.target.closest(".card");
    if (!card || event.button !== 0 || !this.enabled() || this.grabbed) return;
    // On touch, only the grip drags: the rest of the card scrolls the page as usual.
    if (event.pointerType !== "mouse" && !event.target.closest(".card-grip")) return;
    this.pointer = { card, x: event.clientX, y: event.clientY, dragging: false };
  }

  pointerMove(event) {
    const drag = this.pointer;
    if (!drag) return;
    if (!drag.dragging) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD_PX) return;
      this.startPointerDrag(drag);
    }
    event.preventDefault();
    drag.ghost.style.transform = `translate(${event.clientX - drag.dx}px, ${event.clientY - drag.dy}px) rotate(2deg)`;
    this.edgeScroll(event.clientX);
    this.placeAt(drag.placeholder, event.clientX, event.clientY);
  }

  startPointerDrag(drag) {
    const rect = drag.card.getBoundingClientRect();
    drag.dragging = true;
    drag.dx = drag.x - rect.left;
    drag.dy = drag.y - rect.top;
    drag.origin = origin(drag.card);
    drag.ghost = drag.card.cloneNode(true);
    drag.ghost.className = "card drag-ghost";
    drag.ghost.removeAttribute("data-testid");
    drag.ghost.setAttribute("aria-hidden", "true");
    drag.ghost.style.width = `${rect.width}px`;
    document.body.append(drag.ghost);
    drag.placeholder = h("li", { class: "card-placeholder", "aria-hidden": "true" });
    drag.placeholder.style.height = `${rect.height}px`;
    drag.card.replaceWith(drag.placeholder);
    document.body.classList.add("is-dragging");
  }

  edgeScroll(x) {
    const box = this.scroller.getBoundingClientRect();
    if (x < box.left + EDGE_SCROLL_PX) this.scroller.scrollLeft -= 12;
    else if (x > box.right - EDGE_SCROLL_PX) this.scroller.scrollLeft += 12;
  }

  /** Put the placeholder where the pointer is: the column under it, before the first card
   * whose middle is below the pointer. */
  placeAt(placeholder, x, y) {
    const lists = [...this.root.querySelectorAll(".card-list")].filter((list) => list.offsetParent !== null);
    let best = null;
    let bestDistance = Infinity;
    for (const list of lists) {
      const box = list.closest(".column").getBoundingClientRect();
      const distance = x < box.left ? box.left - x : x > box.right ? x - box.right : 0;
      if (distance < bestDistance) [best, bestDistance] = [list, distance];
    }
    if (!best) return;
    const next = [...best.querySelectorAll(":scope > .card")].find((card) => {
      const box = card.getBoundingClientRect();
      return y < box.top + box.height / 2;
    }) || null;
    if (placeholder.parentElement !== best || placeholder.nextElementSibling !== next) best.insertBefore(placeholder, next);
  }

  pointerUp() {
    const drag = this.pointer;
    if (!drag) return;
    if (!drag.dragging) {
      this.pointer = null;
      return;
    }
    drag.placeholder.replaceWith(drag.card);
    this.onShift?.();
    this.finishPointer();
    // The click that follows this pointerup must not open the task.
    const swallow = (event) => { event.stopPropagation(); event.preventDefault(); };
    window.addEventListener("click", swallow, { capture: true, once: true });
    setTimeout(() => window.removeEventListener("click", swallow, { capture: true }), 0);
    this.drop(drag.card, drag.origin);
  }

  cancelPointer() {
    const drag = this.pointer;
    if (!drag) return;
    if (drag.dragging) {
      drag.placeholder.remove();
      drag.origin.list.insertBefore(drag.card, drag.origin.next);
      this.onShift?.();
    }
    this.finishPointer();
  }

  finishPointer() {
    const wasDragging = this.pointer?.dragging;
    this.pointer?.ghost?.remove();
    this.pointer = null;
    document.body.classList.remove("is-dragging");
    if (wasDragging) this.onSettle();
  }

  // -- keyboard --------------------------------------------------------------------------
  keyDown(event) {
    const grip = event.target.closest(".card-grip");
    if (!grip || !this.enabled()) return;
    const card = grip.closest(".card");
    const key = event.key;
    if (!this.grabbed) {
      if (key === " " || key === "Enter") {
        event.preventDefault();
        this.grabbed = { card, origin: origin(card) };
        card.classList.add("card-grabbed");
        grip.setAttribute("aria-pressed", "true");
        announce(`Picked up ${titleOf(card)}. Arrow keys move it, Enter drops it, Escape cancels.`);
      }
      return;
    }
    if (this.grabbed.card !== card) return;
    const handled = {
      ArrowUp: () => this.shift(card, -1),
      ArrowDown: () => this.shift(card, 1),
      ArrowLeft: () => this.hop(card, -1),
      ArrowRight: () => this.hop(card, 1),
      Enter: () => this.keyboardDrop(),
      " ": () => this.keyboardDrop(),
      Escape: () => this.keyboardCancel(),
    }[key];
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
      handled();
    }
  }

  shift(card, step) {
    const sibling = step < 0 ? card.previousElementSibling : card.nextElementSibling;
    if (!sibling) return;
    this.relocate(card, card.parentElement, step < 0 ? sibling : sibling.nextElementSibling);
  }

  hop(card, step) {
    const lists = [...this.root.querySelectorAll(".card-list")].filter((list) => list.offsetParent !== null);
    const target = lists[lists.indexOf(card.parentElement) + step];
    if (!target) return;
    const index = [...card.parentElement.children].indexOf(card);
    this.relocate(card, target, target.children[index] || null);
  }

  relocate(card, list, before) {
    this.movingFocus = true;
    list.insertBefore(card, before);
    card.querySelector(".card-grip").focus();
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
    this.movingFocus = false;
    this.onShift?.();
    const position = [...list.children].indexOf(card) + 1;
    announce(`${columnTitleOf(list)}, position ${position} of ${list.children.length}.`);
  }

  keyboardDrop() {
    const { card, origin: from } = this.grabbed;
    this.releaseGrab();
    announce(`Dropped ${titleOf(card)} in ${columnTitleOf(card.parentElement)}.`);
    this.drop(card, from);
  }

  keyboardCancel() {
    const { card, origin: from } = this.grabbed;
    this.relocate(card, from.list, from.next);
    this.releaseGrab();
    announce("Move cancelled.");
  }

  focusOut(event) {
    if (!this.grabbed || this.movingFocus) return;
    if (event.relatedTarget && this.grabbed.card.contains(event.relatedTarget)) return;
    this.keyboardCancel();
  }

  releaseGrab() {
    const { card } = this.grabbed;
    card.classList.remove("card-grabbed");
    card.querySelector(".card-grip")?.removeAttribute("aria-pressed");
    this.grabbed = null;
    this.onSettle();
  }

  // -- both ------------------------------------------------------------------------------
  drop(card, from) {
    const list = card.parentElement;
    const before = previousCard(card)?.dataset.id || null;
    const after = nextCard(card)?.dataset.id || null;
    if (list === from.list && before === from.before && after === from.after) return;
    this.onDrop(card.dataset.id, list.dataset.status, before, after);
  }
}

function previousCard(card) {
  let node = card.previousElementSibling;
  while (node && !node.classList.contains("card")) node = node.previousElementSibling;
  return node;
}

function nextCard(card) {
  let node = card.nextElementSibling;
  while (node && !node.classList.contains("card")) node = node.nextElementSibling;
  return node;
}

function origin(card) {
  return { list: card.parentElement, next: card.nextElementSibling, before: previousCard(card)?.dataset.id || null,
           after: nextCard(card)?.dataset.id || null };
}

/** The column's name as shown (a board may name its columns freely). */
function columnTitleOf(list) {
  return list.closest(".column")?.querySelector(".column-title")?.textContent || list.dataset.status;
}

function titleOf(card) {
  return card.querySelector(".card-title")?.textContent || "task";
}
