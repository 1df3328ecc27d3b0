// A task's description, co-edited live: a Yjs document synced over the app's WebSocket
// (doc.open / doc.update / doc.awareness, docs/realtime.md), bound to a plain textarea.
// Everyone's keystrokes are kept (no conflict dialog for text); others' cursors show with
// their names; Ctrl+Z undoes only my own edits; a Markdown preview, sanitised.
//
// Nothing here needs the server to have answered: edits apply at once and are sent a few
// times a second. Whenever the document is (re)opened — after a reconnect, after being
// offline — the server says what it has, and what it lacks is sent back, so nothing typed
// meanwhile is lost.
//
// With no channel to open the document on — offline, or on the event-stream fallback
// behind a proxy that breaks WebSockets — the field becomes a plain textarea instead: the
// dialog's Save sends it in the task's versioned PATCH (queued offline like any edit),
// which the server merges into the document as a minimal diff.

import { Awareness, DOMPurify, Y, applyAwarenessUpdate, encodeAwarenessUpdate, marked, removeAwarenessStates }
  from "../../vendor/coedit/coedit.mjs";
import { colourSlot, h, uid } from "../dom.js";

const LOCAL = "local"; // the origin of my own edits: the only ones Undo touches
const SEND_EVERY_MS = 200; // merged updates, so typing stays far below the socket's message limit
const AWARENESS_EVERY_MS = 400;
const SLOTS = 8;
const RETRY_AFTER_MS = 1000;
// Errors after which the same update is sent again; any other refusal is final.
const TRANSIENT = new Set(["unavailable", "rate_limited", "internal_error"]);

// Raw HTML in a description is shown as text, never parsed: DOMPurify would strip what is
// dangerous, but merely parsing an `onerror` attribute already trips the page's CSP.
const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
marked.use({ renderer: { html: ({ text }) => escapeHtml(text) } });

const toBase64 = (bytes) => {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
};
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export class DescriptionEditor {
  /** `live`: the app's LiveClient; `me`: {id, name}; `editable`: may I edit the task. The
   * board must be subscribed on `live`. */
  constructor({ live, taskId, me, initial, label, editable }) {
    this.live = live;
    this.taskId = taskId;
    this.me = me;
    this.editable = editable;
    this.plain = false; // no live document: edited as plain text, saved with the form
    this.setUpDocument();
    this.outgoing = []; // my updates not yet sent
    this.inFlight = new Map(); // request id -> update, until doc.ack
    this.requests = 0;
    this.opened = false; // on this connection: updates wait for doc.opened, which sends them all
    this.everOpened = false;
    this.writable = false;
    this.shown = ""; // the textarea's value as the document last set it
    this.selection = null; // my selection as Yjs relative positions: survives others' edits
    this.timers = {};
    this.build(label);
    // Until the server answers, show what the board knows, read-only.
    this.textarea.value = initial || "";
    this.leave = live.join({
      subscribe: (id) => {
        this.openId = id;
        return { type: "doc.open", task: taskId, state_vector: toBase64(Y.encodeStateVector(this.ydoc)), id };
      },
      unsubscribe: () => ({ type: "doc.close", task: taskId }),
      receive: (message) => this.receive(message),
    });
    this.stopWatching = live.onStatus((status) => {
      // A new connection must open the document again before any update: one sent ahead
      // of it is refused (document_not_open). Typing goes on into the document meanwhile.
      if (status !== "live") this.opened = false;
      if (!this.everOpened && !this.plain && !live.carriesDocuments) this.becomePlain();
    });
  }

  /** No channel can open the document: stop waiting for it and let the text be edited
   * here, to be saved with the form. For this dialog's life: a document opened later would
   * not know what was typed meanwhile. */
  becomePlain() {
    this.leave();
    this.plain = true;
    this.textarea.readOnly = !this.editable;
    this.mirror.replaceChildren();
    this.editors.textContent = "Not live here: this description is saved with the task.";
  }

  /** Show `text` in place of what was typed (the merge dialog's "Use theirs"); only
   * plain text is the form's to replace. */
  replacePlain(text) {
    if (!this.plain) return;
    this.textarea.value = text;
    this.renderPreview();
  }

  setUpDocument() {
    this.ydoc = new Y.Doc();
    this.ytext = this.ydoc.getText("description");
    this.undo = new Y.UndoManager(this.ytext, { trackedOrigins: new Set([LOCAL]) });
    this.onUpdate = (update, origin) => { if (origin === LOCAL || origin === this.undo) this.queue(update); };
    this.ydoc.on("update", this.onUpdate);
    this.ytext.observe((event) => { if (event.transaction.origin !== LOCAL) this.showRemote(); });
    this.awareness?.destroy();
    this.awareness = new Awareness(this.ydoc);
    this.awareness.setLocalStateField("user", { name: this.me.name, id: this.me.id, slot: colourSlot(this.me.name, SLOTS) });
    this.awareness.on("update", ({ added, updated, removed }, origin) => {
      this.renderCursors();
      if (origin === "local" && [...added, ...updated, ...removed].includes(this.ydoc.clientID)) this.queueAwareness();
    });
  }

  build(label) {
    this.textarea = h("textarea", { class: "input coedit-input", name: "description", rows: 6, readonly: true,
      "aria-label": label, "data-testid": "description-editor", spellcheck: "true" });
    this.mirror = h("div", { class: "coedit-mirror input", "aria-hidden": "true" });
    this.editors = h("p", { class: "coedit-editors small muted", "aria-live": "polite", "data-testid": "description-editors" });
    this.previewButton = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-pressed": "false" }, "Preview");
    this.preview = h("div", { class: "coedit-preview markdown", hidden: true, id: uid("preview"), "data-testid": "description-preview" });
    this.element = h("div", { class: "coedit" },
      h("div", { class: "coedit-bar" }, this.editors, this.previewButton),
      h("div", { class: "coedit-field" }, this.mirror, this.textarea),
      this.preview);
    this.textarea.addEventListener("input", () => this.typed());
    this.textarea.addEventListener("scroll", () => { this.mirror.scrollTop = this.textarea.scrollTop; });
    this.textarea.addEventListener("keydown", (event) => this.key(event));
    for (const type of ["select", "keyup", "mouseup", "focus"]) this.textarea.addEventListener(type, () => this.noteSelection());
    this.textarea.addEventListener("blur", () => this.awareness.setLocalStateField("cursor", null));
    this.previewButton.addEventListener("click", () => this.togglePreview());
  }

  get value() {
    return this.plain ? this.textarea.value : this.ytext.toString();
  }

  // -- the server ----------------------------------------------------------------------------
  receive(message) {
    if (message.type === "error") return this.failed(message);
    if (message.task !== this.taskId) return undefined;
    switch (message.type) {
      case "doc.opened": return this.openedWith(message);
      case "doc.update": return Y.applyUpdate(this.ydoc, fromBase64(message.update), "remote");
      case "doc.awareness": return applyAwarenessUpdate(this.awareness, fromBase64(message.update), "remote");
      case "doc.ack": return this.inFlight.delete(message.id);
      case "doc.resync": return this.live.send(this.openMessage());
      case "doc.closed":
        this.opened = false;
        this.textarea.readOnly = true;
        return undefined;
      default: return undefined;
    }
  }

  openMessage() {
    this.requests += 1;
    this.openId = `doc-${this.requests}`;
    return { type: "doc.open", task: this.taskId, state_vector: toBase64(Y.encodeStateVector(this.ydoc)), id: this.openId };
  }

  openedWith(message) {
    Y.applyUpdate(this.ydoc, fromBase64(message.update), "remote");
    this.opened = true;
    this.everOpened = true;
    this.writable = message.writable;
    this.textarea.readOnly = !this.writable;
    this.showRemote();
    // Everything the server lacks (edits made offline, or sent and never acknowledged)
    // in one update; what was queued or in flight is in it.
    this.outgoing = [];
    this.inFlight.clear();
    if (this.writable) {
      const missing = Y.encodeStateAsUpdate(this.ydoc, fromBase64(message.state_vector));
      if (missing.length > 2) this.sendUpdate(missing);
    }
    this.queueAwareness();
  }

  /** An error answering one of my messages (errors name no task: matched by request id). */
  failed(message) {
    if (message.id === this.openId) {
      if (message.code === "not_subscribed" || TRANSIENT.has(message.code)) {
        // The board's subscription was still on its way, or the server is busy: ask again.
        this.timers.reopen = setTimeout(() => this.live.send(this.openMessage()), RETRY_AFTER_MS);
      } else {
        this.editors.textContent = `Live editing is unavailable: ${message.message}`;
      }
      return;
    }
    const update = this.inFlight.get(message.id);
    if (!update) return;
    this.inFlight.delete(message.id);
    if (message.code === "document_not_open") {
      // It overtook this connection's doc.open: the answer to a new one sends all it lacks.
      this.opened = false;
      this.live.send(this.openMessage());
    } else if (TRANSIENT.has(message.code)) {
      this.retryLater(update);
    } else {
      // Refused for good (a role taken away, text past the limit): start again from what
      // the server holds, dropping what it refused.
      this.editors.textContent = message.message;
      this.restart();
    }
  }

  retryLater(update) {
    this.outgoing.unshift(update);
    clearTimeout(this.timers.send);
    this.timers.send = setTimeout(() => this.flush(), RETRY_AFTER_MS);
  }

  restart() {
    this.ydoc.off("update", this.onUpdate);
    this.undo.destroy();
    this.ydoc.destroy();
    this.outgoing = [];
    this.inFlight.clear();
    this.setUpDocument();
    this.live.send(this.openMessage());
  }

  queue(update) {
    this.outgoing.push(update);
    if (!this.timers.send) this.timers.send = setTimeout(() => this.flush(), SEND_EVERY_MS);
  }

  flush() {
    this.timers.send = null;
    if (!this.opened || !this.outgoing.length) return; // the next doc.opened sends it all
    const update = this.outgoing.length === 1 ? this.outgoing[0] : Y.mergeUpdates(this.outgoing);
    this.outgoing = [];
    this.sendUpdate(update);
  }

  sendUpdate(update) {
    this.requests += 1;
    const id = `doc-${this.requests}`;
    this.inFlight.set(id, update);
    this.live.send({ type: "doc.update", task: this.taskId, update: toBase64(update), id });
  }

  queueAwareness() {
    if (this.timers.awareness) return;
    this.timers.awareness = setTimeout(() => {
      this.timers.awareness = null;
      if (!this.opened) return;
      const update = encodeAwarenessUpdate(this.awareness, [this.ydoc.clientID]);
      this.live.send({ type: "doc.awareness", task: this.taskId, update: toBase64(update) });
    }, AWARENESS_EVERY_MS);
  }

  // -- the textarea --------------------------------------------------------------------------
  /** Turn what the browser changed in the textarea into one Yjs edit: the changed middle
   * between the common start and end of the old and new text. */
  typed() {
    if (this.plain) return this.renderPreview();
    if (!this.writable) return undefined;
    const before = this.shown;
    const after = this.textarea.value;
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
    let end = 0;
    while (end < before.length - start && end < after.length - start
           && before[before.length - 1 - end] === after[after.length - 1 - end]) end += 1;
    this.ydoc.transact(() => {
      if (before.length - start - end > 0) this.ytext.delete(start, before.length - start - end);
      if (after.length - start - end > 0) this.ytext.insert(start, after.slice(start, after.length - end));
    }, LOCAL);
    this.shown = after;
    this.noteSelection();
    this.renderPreview();
    return undefined;
  }

  /** Someone else's edit (or an undo): show it, keeping my cursor where my text is. */
  showRemote() {
    const text = this.value;
    if (text === this.textarea.value) {
      this.shown = text;
    } else {
      const focused = document.activeElement === this.textarea;
      this.textarea.value = text;
      this.shown = text;
      if (focused && this.selection) {
        const [anchor, head] = this.selection.map((rel) => Y.createAbsolutePositionFromRelativePosition(rel, this.ydoc)?.index ?? 0);
        this.textarea.setSelectionRange(Math.min(anchor, head), Math.max(anchor, head));
      }
    }
    this.renderCursors();
    this.renderPreview();
  }

  noteSelection() {
    if (this.plain) return;
    const { selectionStart: start, selectionEnd: end } = this.textarea;
    this.selection = [Y.createRelativePositionFromTypeIndex(this.ytext, start), Y.createRelativePositionFromTypeIndex(this.ytext, end)];
    if (document.activeElement === this.textarea) {
      this.awareness.setLocalStateField("cursor", { anchor: Y.relativePositionToJSON(this.selection[0]),
                                                     head: Y.relativePositionToJSON(this.selection[1]) });
    }
  }

  key(event) {
    const mod = event.ctrlKey || event.metaKey;
    if (!mod || !this.writable) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) {
      event.preventDefault();
      this.undo.undo();
    } else if ((key === "z" && event.shiftKey) || key === "y") {
      event.preventDefault();
      this.undo.redo();
    }
  }

  /** Others' cursors: the text laid out again behind the textarea, transparent, with a
   * coloured caret and a name where each of them is. */
  renderCursors() {
    const text = this.value;
    const carets = [];
    const names = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.ydoc.clientID || !state.user) continue;
      names.push(state.user.name);
      if (!state.cursor?.head) continue;
      const head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(state.cursor.head), this.ydoc);
      if (head) carets.push({ index: head.index, name: state.user.name, slot: state.user.slot ?? colourSlot(state.user.name, SLOTS) });
    }
    carets.sort((a, b) => a.index - b.index);
    const parts = [];
    let at = 0;
    for (const caret of carets) {
      parts.push(text.slice(at, caret.index));
      parts.push(h("span", { class: `remote-caret cc-${caret.slot}`, "data-testid": "remote-caret" },
        h("span", { class: "remote-caret-name" }, caret.name)));
      at = caret.index;
    }
    parts.push(`${text.slice(at)}\n`);
    this.mirror.replaceChildren(...parts);
    this.mirror.scrollTop = this.textarea.scrollTop;
    const unique = [...new Set(names)];
    this.editors.textContent = unique.length ? `Also here: ${unique.join(", ")}` : "";
  }

  togglePreview() {
    const showing = this.preview.hidden;
    this.preview.hidden = !showing;
    this.previewButton.setAttribute("aria-pressed", String(showing));
    this.previewButton.textContent = showing ? "Edit" : "Preview";
    this.element.classList.toggle("previewing", showing);
    this.renderPreview();
  }

  renderPreview() {
    if (this.preview.hidden) return;
    // marked turns Markdown into HTML; DOMPurify keeps only safe elements and attributes.
    const html = DOMPurify.sanitize(marked.parse(this.value, { async: false }), { USE_PROFILES: { html: true } });
    this.preview.innerHTML = html || "<p class=\"muted\">Nothing to preview.</p>";
  }

  destroy() {
    clearTimeout(this.timers.send);
    clearTimeout(this.timers.awareness);
    clearTimeout(this.timers.reopen);
    this.flush(); // what I typed last goes out before the document closes
    if (this.opened) {
      removeAwarenessStates(this.awareness, [this.ydoc.clientID], "local");
      const update = encodeAwarenessUpdate(this.awareness, [this.ydoc.clientID]);
      this.live.send({ type: "doc.awareness", task: this.taskId, update: toBase64(update) });
    }
    this.stopWatching();
    this.leave();
    this.awareness.destroy();
    this.undo.destroy();
    this.ydoc.destroy();
  }
}
