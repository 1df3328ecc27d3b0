// The fallback of live.js for networks whose proxies break WebSockets: one Server-Sent
// Events stream per subscribed board (GET /api/v1/boards/{id}/events/stream), carrying the
// same JSON messages a WebSocket subscription gets. EventSource cannot send an
// Authorization header, so each connection spends a single-use ticket from an
// authenticated POST; EventSource's own reconnect would reuse the spent ticket, so every
// reconnect is ours: a fresh ticket, resuming after the last seq the stream told us.
// Notifications have no per-user stream: the bell is asked to refetch now and then.

import { api } from "./api.js";

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const NOTIFICATIONS_REFETCH_MS = 30_000;
// The stream names every message that is not a board event (those come as "message").
const NAMED = ["subscribed", "reset", "unsubscribed", "presence"];

export class EventStreams {
  /** `deliver(message)` hands a server message to the channels; `setStatus` as LiveClient's. */
  constructor(deliver, setStatus) {
    this.deliver = deliver;
    this.setStatus = setStatus;
    this.boards = new Map(); // board id -> {since, requestId, source, attempt, timer}
    this.paused = false;
    this.notificationsTimer = null;
  }

  /** A message LiveClient would have sent on the socket. */
  send(message) {
    switch (message.type) {
      case "subscribe": return this.open(message.board, message.since, message.id);
      case "unsubscribe": return this.close(message.board);
      case "notifications.subscribe": return this.pollNotifications();
      case "notifications.unsubscribe":
        clearInterval(this.notificationsTimer);
        this.notificationsTimer = null;
        return undefined;
      default: return undefined; // pings, cursors: nothing to say over a one-way stream
    }
  }

  open(board, since, requestId) {
    this.close(board);
    const entry = { since, requestId, source: null, attempt: 0, timer: null };
    this.boards.set(board, entry);
    this.start(board, entry);
  }

  close(board) {
    const entry = this.boards.get(board);
    if (!entry) return;
    this.boards.delete(board);
    clearTimeout(entry.timer);
    entry.source?.close();
  }

  pollNotifications() {
    const refetch = () => this.deliver({ type: "notifications.refetch" });
    clearInterval(this.notificationsTimer);
    this.notificationsTimer = setInterval(refetch, NOTIFICATIONS_REFETCH_MS);
    queueMicrotask(refetch);
  }

  /** Offline: close the streams, keep what they follow. */
  pause() {
    this.paused = true;
    for (const entry of this.boards.values()) {
      clearTimeout(entry.timer);
      entry.source?.close();
      entry.source = null;
    }
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    for (const [board, entry] of this.boards) this.start(board, entry);
  }

  stop() {
    this.pause();
    this.boards.clear();
    clearInterval(this.notificationsTimer);
  }

  current(board, entry) {
    return !this.paused && this.boards.get(board) === entry;
  }

  async start(board, entry) {
    if (!this.current(board, entry) || entry.source) return;
    let ticket;
    try {
      ({ ticket } = await api("POST", `/boards/${encodeURIComponent(board)}/events/stream-ticket`));
    } catch (error) {
      if (!this.current(board, entry)) return;
      if (error.status === 404 || error.status === 401) {
        // The board is gone or we may no longer read it (or the session ended): say so as
        // the socket would, and stop following it.
        this.boards.delete(board);
        this.deliver({ type: "error", id: entry.requestId, code: error.code, message: error.message });
        return;
      }
      this.retry(board, entry);
      return;
    }
    if (!this.current(board, entry)) return;
    const query = new URLSearchParams({ ticket });
    if (entry.since !== null && entry.since !== undefined) query.set("after", String(entry.since));
    const source = new EventSource(`/api/v1/boards/${encodeURIComponent(board)}/events/stream?${query}`);
    entry.source = source;
    const receive = (event) => {
      if (entry.source !== source) return;
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (event.lastEventId) entry.since = Number(event.lastEventId);
      if (message.type === "subscribed") {
        entry.attempt = 0;
        this.setStatus("live");
      }
      this.deliver(message);
      if (message.type === "unsubscribed") this.close(board);
    };
    source.addEventListener("message", receive);
    for (const name of NAMED) source.addEventListener(name, receive);
    source.addEventListener("error", (event) => {
      if (entry.source !== source) return;
      // A server "error" message arrives as a MessageEvent with data; it ends the stream,
      // whose close then comes as a plain error event.
      if (event.data !== undefined) return receive(event);
      source.close();
      entry.source = null;
      return this.retry(board, entry);
    });
  }

  retry(board, entry) {
    if (!this.current(board, entry)) return;
    this.setStatus("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** entry.attempt);
    entry.attempt += 1;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.start(board, entry), ceiling / 2 + Math.random() * (ceiling / 2));
  }
}
