// The bell in the top bar: your unread count, and a panel of your notifications (being
// assigned, @mentioned, added to a board). It lives as long as the sign-in, across views.
// Live over the app's WebSocket: it subscribes on every (re)connect and then refetches the
// first page over REST, because notifications are not replayed (docs/realtime.md).

import { api } from "../api.js";
import { h, uid } from "../dom.js";
import { toast } from "../toast.js";
import { NotificationFeed } from "./feed.js";
import { NotificationList } from "./list.js";

const PAGE_SIZE = 20;
const TICK_MS = 30_000;
const SVG = "http://www.w3.org/2000/svg";
const BELL_PATHS = ["M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9", "M13.73 21a2 2 0 0 1-3.46 0"];

function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({ viewBox: "0 0 24 24", width: 20, height: 20, fill: "none",
    stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" })) {
    svg.setAttribute(key, String(value));
  }
  for (const d of BELL_PATHS) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

function unreadWords(count) {
  return count === 1 ? "1 unread notification" : `${count || "No"} unread notifications`;
}

export class NotificationBell {
  constructor({ live }) {
    this.feed = new NotificationFeed();
    this.list = new NotificationList();
    this.alive = true;
    this.fetching = false;
    this.fetchAgain = false;
    this.announced = 0;
    this.build();
    this.leaveLive = live.join({
      subscribe: (id) => ({ type: "notifications.subscribe", id }),
      unsubscribe: () => ({ type: "notifications.unsubscribe" }),
      receive: (message) => this.receive(message),
    });
  }

  build() {
    const panelId = uid("notifications");
    const headingId = uid("notifications-title");
    this.badge = h("span", { class: "bell-badge", "aria-hidden": "true", hidden: true, "data-testid": "notifications-badge" });
    this.button = h("button", { type: "button", class: "btn-icon bell", "aria-expanded": "false", "aria-controls": panelId,
                                "aria-label": "Notifications", "data-testid": "notifications-bell" }, bellIcon(), this.badge);
    // The count, announced politely when it changes (the badge itself is hidden from readers).
    this.status = h("span", { class: "visually-hidden", role: "status" });
    this.markAll = h("button", { type: "button", class: "btn btn-ghost btn-small", disabled: true }, "Mark all read");
    this.empty = h("p", { class: "notice-empty muted" }, "Loading…");
    this.more = h("button", { type: "button", class: "btn btn-small btn-block", hidden: true }, "Load more");
    this.panel = h("section", { id: panelId, class: "notice-panel", hidden: true, "aria-labelledby": headingId,
                                "data-testid": "notifications-panel" },
      h("div", { class: "notice-head" }, h("h2", { class: "notice-title", id: headingId }, "Notifications"), this.markAll),
      this.list.element, this.empty, h("div", { class: "notice-foot" }, this.more));
    this.element = h("div", { class: "bell-wrap" }, this.button, this.status, this.panel);

    this.button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.markAll.addEventListener("click", () => this.markAllRead());
    this.more.addEventListener("click", () => this.loadMore());
    // Before the router's document listener navigates: mark it read and get out of the way.
    this.list.element.addEventListener("click", (event) => {
      const link = event.target.closest("a.notice-link");
      if (!link) return;
      this.markRead(link.dataset.id);
      this.close();
    });
    this.onKeydown = (event) => {
      if (event.key !== "Escape" || !this.isOpen) return;
      const focus = document.activeElement;
      if (focus && focus !== document.body && !this.element.contains(focus)) return;
      this.close();
      this.button.focus();
    };
    this.onPointerDown = (event) => { if (this.isOpen && !this.element.contains(event.target)) this.close(); };
    document.addEventListener("keydown", this.onKeydown);
    document.addEventListener("pointerdown", this.onPointerDown);
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.render();
    this.timer = setInterval(() => this.list.tickAll(), TICK_MS);
  }

  close() {
    if (!this.isOpen) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    clearInterval(this.timer);
  }

  // -- live ------------------------------------------------------------------------------
  receive(message) {
    if (!this.alive) return;
    if (message.type === "notifications.subscribed") {
      this.feed.setUnread(message.unread);
      this.renderCount();
      this.refetch(); // what arrived while this socket was not listening
    } else if (message.type === "notifications.refetch") {
      this.refetch();
    } else if (message.type === "notification" && this.feed.add(message.notification)) {
      this.render();
      this.list.highlight(message.notification.id);
    }
  }

  /** The first page again, merged by id; one at a time, once more if asked meanwhile. */
  async refetch() {
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = true;
    try {
      do {
        this.fetchAgain = false;
        const page = await api("GET", "/notifications", { query: { limit: PAGE_SIZE } });
        if (!this.alive) return;
        this.feed.adoptFirstPage(page);
      } while (this.fetchAgain);
      this.failed = null;
    } catch (error) {
      this.failed = error.message;
    } finally {
      this.fetching = false;
      if (this.alive) this.render();
    }
  }

  // -- actions ---------------------------------------------------------------------------
  async markRead(id) {
    if (!this.feed.markRead([id]).length) return;
    this.render();
    await this.send({ ids: [id] });
  }

  async markAllRead() {
    const upTo = this.feed.newestId;
    if (!upTo) return;
    this.feed.markAllRead(upTo);
    this.render();
    // Up to the newest shown: one that arrives meanwhile stays unread.
    await this.send({ all: true, up_to: upTo });
  }

  async send(body) {
    const arrivalsBefore = this.feed.liveArrivals;
    try {
      const result = await api("POST", "/notifications/read", { body });
      if (!this.alive) return;
      // A notification that arrived live while the request was out may or may not be in
      // the answered count; the first page again settles it (adoptFirstPage counts later ones).
      if (this.feed.liveArrivals !== arrivalsBefore) {
        this.refetch();
        return;
      }
      this.feed.setUnread(result.unread_count);
      this.renderCount();
    } catch (error) {
      toast(`Couldn't mark notifications read: ${error.message}`, "error");
      this.refetch();
    }
  }

  async loadMore() {
    // Not `disabled`: disabling the focused button would drop keyboard focus to the page.
    if (this.loadingMore) return;
    this.loadingMore = true;
    this.more.setAttribute("aria-disabled", "true");
    let firstOlder = null;
    try {
      const page = await api("GET", "/notifications", { query: { limit: PAGE_SIZE, cursor: this.feed.nextCursor } });
      if (!this.alive) return;
      this.feed.adoptOlderPage(page);
      firstOlder = page.items[0]?.id;
    } catch (error) {
      toast(`Couldn't load more notifications: ${error.message}`, "error");
    } finally {
      this.loadingMore = false;
      this.more.removeAttribute("aria-disabled");
    }
    const hadFocus = document.activeElement === this.more;
    this.render();
    // The button is gone after the last page: keep keyboard focus at the first older one.
    if (hadFocus && this.more.hidden && firstOlder) this.list.focus(firstOlder);
  }

  // -- rendering -------------------------------------------------------------------------
  render() {
    this.renderCount();
    if (!this.isOpen) return;
    const items = this.feed.items;
    this.list.render(items);
    this.empty.hidden = items.length > 0;
    this.empty.textContent = this.failed ? `Couldn't load notifications: ${this.failed}`
      : this.feed.loaded ? "No notifications yet." : "Loading…";
    this.more.hidden = !this.feed.nextCursor;
  }

  renderCount() {
    const count = this.feed.unread;
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 99 ? "99+" : String(count);
    this.button.setAttribute("aria-label", count ? `Notifications, ${count} unread` : "Notifications");
    this.markAll.disabled = count === 0;
    if (count !== this.announced) this.status.textContent = unreadWords(count);
    this.announced = count;
  }

  destroy() {
    this.alive = false;
    this.leaveLive();
    this.close();
    document.removeEventListener("keydown", this.onKeydown);
    document.removeEventListener("pointerdown", this.onPointerDown);
  }
}
