// The WebSocket client for /api/v1/ws: one socket per signed-in tab, opened at sign-in and
// closed at sign-out. Auth message first, then every joined channel (the open board, the
// notifications) subscribes again on each (re)connect; heartbeat, reconnect with backoff,
// and a status for the connection indicator. Seq bookkeeping and what a message means
// belong to the channels; this only moves messages. When sockets cannot connect, or keep
// dropping as soon as they open (a proxy that breaks WebSockets), the same channels are
// served over Server-Sent Events instead (live-sse.js) until the page is reloaded.

import { EventStreams } from "./live-sse.js";
import { getAccessToken, refresh } from "./session.js";

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_SLOW_CONSUMER = 4408;
// A socket that fails before "ready", or closes this soon after it, counts as a quick
// failure; this many in a row and we fall back to event streams.
const QUICK_DROP_MS = 5_000;
const QUICK_FAILURES_BEFORE_STREAMS = 2;

/** Status: "connecting" | "live" (authenticated) | "reconnecting" | "offline". */
export class LiveClient {
  constructor() {
    this.channels = new Set();
    this.statusListeners = new Set();
    this.status = null;
    this.socket = null;
    this.ready = false; // the server answered "ready" on the current socket
    this.attempt = 0;
    this.stopped = false;
    this.timers = {};
    this.requests = 0;
    this.quickFailures = 0;
    this.streams = null; // EventStreams once we fell back
    this.onOnline = () => this.connectSoon(0);
    this.onOffline = () => this.dropSocket("offline");
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.clearTimers();
    this.dropSocket(null);
    this.streams?.stop();
  }

  /**
   * Follow a channel on this connection. `channel.subscribe(id)` returns the message that
   * subscribes it: sent now when the socket is ready, and again after every reconnect.
   * `channel.receive(message)` sees every server message and keeps its own.
   * `channel.unsubscribe()` returns the message sent on leaving. Returns `leave()`.
   */
  join(channel) {
    this.channels.add(channel);
    if (this.ready) this.subscribeChannel(channel);
    return () => {
      if (this.channels.delete(channel) && this.ready) this.send(channel.unsubscribe());
    };
  }

  /** See every server message without subscribing to anything (the boards list hears the
   * notifications the bell subscribed to). Returns `stop()`. */
  listen(receive) {
    return this.join({ subscribe: () => null, unsubscribe: () => null, receive });
  }

  /** Whether a co-edited document can be opened now: only the WebSocket carries documents
   * (event streams are one-way), and only online. */
  get carriesDocuments() {
    return !this.streams && this.status !== "offline";
  }

  /** Calls `listener(status)` now and on every change; returns a function that stops it. */
  onStatus(listener) {
    this.statusListeners.add(listener);
    if (this.status) listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = {};
  }

  async connect() {
    if (this.stopped || this.socket) return undefined;
    if (this.streams) return this.streams.resume();
    // Connecting while offline only logs a browser error; the "online" event resumes.
    if (!navigator.onLine) return this.setStatus("offline");
    this.setStatus(this.attempt === 0 && !this.everLive ? "connecting" : "reconnecting");
    const token = await getAccessToken();
    if (this.stopped || this.socket) return undefined;
    if (!token) return this.setStatus("offline");
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/api/v1/ws`);
    this.socket = socket;
    socket.startedAt = Date.now();
    socket.addEventListener("open", () => {
      if (socket.abandoned) return socket.close(1000);
      // No token in the URL (browsers log URLs): it goes in the first message.
      return socket.send(JSON.stringify({ type: "auth", token }));
    });
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
    return undefined;
  }

  receive(socket, frame) {
    if (socket !== this.socket) return;
    this.armHeartbeat();
    // Under load the server packs several messages into one frame, one per line.
    for (const line of String(frame).split("\n")) {
      if (!line.trim()) continue;
      let message;
      try { message = JSON.parse(line); } catch { continue; }
      if (message.type === "ready") this.becomeReady(socket);
      else if (message.type === "auth.expiring") this.renew(socket);
      else if (message.type === "pong" || message.type === "auth.renewed") continue;
      else this.deliver(message);
    }
  }

  deliver(message) {
    for (const channel of [...this.channels]) channel.receive(message);
  }

  becomeReady(socket) {
    socket.readyAt = Date.now();
    this.ready = true;
    this.attempt = 0;
    this.everLive = true;
    this.setStatus("live");
    for (const channel of this.channels) this.subscribeChannel(channel);
  }

  /** The token this socket signed in with runs out soon: renew in-band rather than be
   * closed with 4401 and replay what we would miss while reconnecting. */
  async renew(socket) {
    if (!(await refresh())) return; // signed out: the 4401 at expiry ends the socket
    const token = await getAccessToken();
    if (token && socket === this.socket) this.send({ type: "auth", token });
  }

  subscribeChannel(channel) {
    this.requests += 1;
    this.send(channel.subscribe(`req-${this.requests}`));
  }

  send(message) {
    if (message && this.streams) return this.streams.send(message);
    if (message && this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Any frame proves the link alive; silence for a ping interval sends a ping, and no
   * answer to it means a dead link (a laptop waking up, a proxy dropping us): reconnect. */
  armHeartbeat() {
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    this.timers.ping = setTimeout(() => {
      this.send({ type: "ping" });
      this.timers.pong = setTimeout(() => this.dropSocket("reconnecting"), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  /** Close our socket on purpose (offline, dead link, stop); "close" then reconnects. */
  dropSocket(status) {
    const socket = this.socket;
    if (this.streams) {
      if (status) this.setStatus(status);
      return this.streams.pause();
    }
    this.ready = false;
    if (status) this.setStatus(status);
    if (!socket) return;
    if (socket.readyState === WebSocket.CONNECTING) {
      // Closing a connecting socket logs a browser error; close it once it opens instead.
      socket.abandoned = true;
      this.socket = null;
      if (!this.stopped) this.connectSoon(BACKOFF_FIRST_MS);
    } else {
      socket.close(1000);
    }
  }

  async closed(socket, code) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.ready = false;
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.setStatus("offline");
      return;
    }
    this.setStatus("reconnecting");
    // 4401: the access token expired or was revoked; refresh it, or the session ends and
    // the app shows the sign-in form. 4408: we fell behind; each channel catches up as it
    // subscribes again.
    if (code === CLOSE_UNAUTHORIZED && !(await refresh())) return;
    if (this.failedQuickly(socket, code)) return this.useEventStreams();
    this.connectSoon(code === CLOSE_SLOW_CONSUMER && this.attempt === 0 ? 0 : this.backoff());
  }

  failedQuickly(socket, code) {
    if (code === CLOSE_UNAUTHORIZED || code === CLOSE_SLOW_CONSUMER) return false;
    const quick = !socket.readyAt || Date.now() - socket.readyAt < QUICK_DROP_MS;
    this.quickFailures = quick ? this.quickFailures + 1 : 0;
    return this.quickFailures >= QUICK_FAILURES_BEFORE_STREAMS;
  }

  /** From now on every channel is served by event streams; `data-live-transport` on the
   * root element tells which transport is in use. */
  useEventStreams() {
    this.clearTimers();
    this.streams = new EventStreams((message) => this.deliver(message), (status) => this.setStatus(status));
    document.documentElement.dataset.liveTransport = "sse";
    this.ready = true;
    this.everLive = true;
    for (const channel of this.channels) this.subscribeChannel(channel);
  }

  /** Exponential backoff with jitter, so a restarted server is not hit by every tab at once. */
  backoff() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt += 1;
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  connectSoon(delay) {
    clearTimeout(this.timers.reconnect);
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }
}
