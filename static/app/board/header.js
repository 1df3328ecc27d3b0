// The board's header: name, who is viewing it now (presence), the connection indicator,
// and the "New task" button.

import { avatar, h } from "../dom.js";
import { WatchToggle } from "../preferences/watch.js";

const STATUS_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };
const STATUS_HELP = {
  connecting: "Connecting to live updates.",
  live: "Live: changes by others appear as they happen.",
  reconnecting: "Connection lost. Reconnecting; missed changes will be caught up.",
  offline: "You are offline. Missed changes will be caught up when you reconnect.",
};
const MAX_FACES = 5;

export class BoardHeader {
  constructor({ onNewTask }) {
    this.name = h("h1", { class: "board-name", "data-testid": "board-name" });
    this.presence = h("div", { class: "presence", "data-testid": "presence", role: "group", "aria-label": "Viewing now" });
    this.statusText = h("span", { class: "conn-text" });
    this.status = h("span", { class: "conn", role: "status", "data-testid": "connection" },
      h("span", { class: "conn-dot", "aria-hidden": "true" }), this.statusText);
    this.newTask = h("button", { type: "button", class: "btn btn-primary", "data-testid": "new-task" },
      h("span", { "aria-hidden": "true" }, "+ "), "New task");
    this.newTask.addEventListener("click", onNewTask);
    this.watch = new WatchToggle("board");
    this.analytics = h("a", { class: "btn btn-ghost", "data-link": true, "data-testid": "analytics-link" }, "Analytics");
    this.element = h("header", { class: "board-head" },
      h("div", { class: "board-head-start" },
        h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/", "data-link": true }, "Boards"),
          h("span", { "aria-hidden": "true" }, "/")),
        this.name),
      h("div", { class: "board-head-end" }, this.presence, this.status, this.analytics, this.watch.element, this.newTask));
    this.setStatus("connecting");
  }

  setBoard(board, canEdit) {
    this.name.textContent = board.name;
    this.analytics.href = `/boards/${board.id}/analytics`;
    document.title = `${board.name} · Taskwire`;
    this.newTask.hidden = !canEdit;
    if (this.watch.path !== `/boards/${encodeURIComponent(board.id)}/watch`) {
      this.watch.load(`/boards/${encodeURIComponent(board.id)}/watch`);
    }
  }

  setStatus(status) {
    this.status.dataset.state = status;
    this.status.className = `conn conn-${status}`;
    this.status.title = STATUS_HELP[status];
    this.statusText.textContent = STATUS_TEXT[status];
  }

  setPresence(users) {
    const unique = [...new Map(users.map((user) => [user.id, user])).values()];
    const faces = unique.slice(0, MAX_FACES).map((user) => avatar(user, "avatar-ring"));
    if (unique.length > MAX_FACES) faces.push(h("span", { class: "avatar avatar-more avatar-ring" }, `+${unique.length - MAX_FACES}`));
    this.presence.replaceChildren(...faces);
    this.presence.setAttribute("aria-label", `Viewing now: ${unique.map((user) => user.name).join(", ") || "nobody"}`);
  }
}
