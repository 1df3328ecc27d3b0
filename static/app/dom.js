// Small DOM helpers shared by every view. No framework: `h` builds elements, views keep
// references to the nodes they update in place.

/**
 * h("button", {class: "btn", type: "button", onclick: fn, text: "Save"}, child, ...)
 * Keys: class, text, dataset, on<event>, boolean properties (disabled, checked, hidden),
 * anything else becomes an attribute. Children may be nodes, strings, arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "tw") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const COLUMN_NAMES = { todo: "To do", in_progress: "In progress", done: "Done", backlog: "Backlog", review: "Review" };

/** A column as people read it: the board's display name for its key ("Code Review 👀"), or
 * else "in_progress" → "In progress" (keys are slugs, people read words). */
export function columnLabel(column, board = null) {
  if (board?.column_names?.[column]) return board.column_names[column];
  if (COLUMN_NAMES[column]) return COLUMN_NAMES[column];
  const words = column.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const SVG = "http://www.w3.org/2000/svg";

/** A small icon drawn as SVG on a 16 × 16 grid (emoji and icon fonts are not everywhere, nor
 * in CI's Chromium): one path `d`, and `circles` as [cx, cy, r]. */
export function svgIcon(d, className = "icon", circles = []) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  svg.append(path);
  for (const [cx, cy, r] of circles) {
    const circle = document.createElementNS(SVG, "circle");
    Object.entries({ cx, cy, r }).forEach(([name, value]) => circle.setAttribute(name, value));
    svg.append(circle);
  }
  return svg;
}

/** A task title as people read it in a sentence: ‘Ship it’. */
export function quoted(title) {
  return `‘${title}’`;
}

const ROLE_WORDS = { owner: "an owner", admin: "an admin", editor: "an editor", commenter: "a commenter", viewer: "a viewer" };

/** "editor" → "an editor", for "added you as an editor". */
export function roleWithArticle(role) {
  return ROLE_WORDS[role] || role;
}

export function initials(name) {
  const parts = (name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

/** A stable palette slot for a string, so a label or a person keeps one colour everywhere. */
export function colourSlot(text, slots = 8) {
  let hash = 0;
  for (const char of text || "") hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % slots;
}

export function avatar(user, extraClass = "") {
  const name = user?.name || "Someone";
  // Keyed by name, not id: the same person looks the same in every browser and screenshot.
  return h("span", { class: `avatar av-${colourSlot(name)} ${extraClass}`.trim(), title: name,
                     "aria-label": name, role: "img" }, initials(name));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

/** "2 minutes ago", "just now". */
export function timeAgo(iso, now = Date.now()) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "minute") return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** Due dates are calendar days kept as midnight UTC; show them as that day everywhere. */
export function formatDueDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

export function dueDateInputValue(iso) {
  return iso ? iso.slice(0, 10) : "";
}

export function isOverdue(iso, now = new Date()) {
  if (!iso) return false;
  const today = now.toISOString().slice(0, 10);
  return iso.slice(0, 10) < today;
}

/** The brief highlight on something someone else just changed or sent (a card, a
 * notification); restarts when the same node is highlighted twice. */
export function flash(node, className) {
  node.classList.remove(className);
  void node.offsetWidth; // a reflow between removing and adding restarts the animation
  node.classList.add(className);
  node.addEventListener("animationend", () => node.classList.remove(className), { once: true });
}

const CONFIRM_MS = 4000;

/** A destructive button asks once more in place instead of a modal confirm(): the first
 * press turns it into "Confirm" for a few seconds, and its accessible name says so too
 * ("Confirm: remove Vic"), or a screen reader would still hear the old one. */
export function confirmInPlace(button, action) {
  if (button.dataset.armed) return action();
  const text = button.textContent;
  const label = button.getAttribute("aria-label");
  button.dataset.armed = "1";
  button.textContent = "Confirm";
  if (label) button.setAttribute("aria-label", `Confirm: ${label.charAt(0).toLowerCase()}${label.slice(1)}`);
  button.classList.add("btn-danger");
  setTimeout(() => {
    delete button.dataset.armed;
    button.textContent = text;
    if (label) button.setAttribute("aria-label", label);
    button.classList.remove("btn-danger");
  }, CONFIRM_MS);
  return undefined;
}

/** Screen-reader announcement (drag and drop, live changes). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes repeated identical messages be read again.
  setTimeout(() => { region.textContent = text; }, 20);
}
