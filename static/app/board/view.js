// The board page: loads the board over REST, keeps it live over the app's WebSocket, and
// wires the columns, drag and drop, filters, task dialog, members and activity together.

import { api, listAll } from "../api.js";
import { columnLabel, h } from "../dom.js";
import { currentRoute, replaceQuery } from "../router.js";
import { currentUser } from "../session.js";
import { toast } from "../toast.js";
import { ActivityFeed } from "./activity.js";
import { BoardSettings, settingsIcon } from "./board-settings.js";
import { ArchivePanel } from "./archive.js";
import { BoardArchiveControl } from "./board-archive.js";
import { ColumnsView } from "./columns.js";
import { DragAndDrop } from "./dnd.js";
import { FilterBar, filtersFromQuery, filtersToQuery, taskMatches } from "./filters.js";
import { BoardHeader } from "./header.js";
import { MembersPanel } from "./members.js";
import { BoardShortcuts } from "./shortcuts.js";
import { SidePanel } from "./side-panel.js";
import { BoardState } from "./state.js";
import { TaskDialog } from "./task-dialog.js";
import { attachOffline } from "../offline/board.js";
import { BoardUndo } from "./undo.js";

const FEED_SIZE = 50;
const COLUMN_PAGE = 50; // tasks read per column at a time: a 10,000-task board opens as fast as a small one

class BoardView {
  constructor(container, boardId, live) {
    this.container = container;
    this.boardId = boardId;
    this.live = live;
    this.state = new BoardState(currentUser());
    this.alive = true;
    this.moving = 0; // moves sent and not yet answered: the DOM is ahead of the state
    this.renderQueued = false;
    this.resyncing = null;
    this.buffered = [];
    this.flashes = new Set();
    this.container.append(h("div", { class: "page-loading", "aria-busy": "true" }, "Loading board…"));
  }

  async start() {
    try {
      // Membership is checked against my own board list first: a board I am not on is
      // "not found" without even asking for it (and without a 404 in the console).
      const mine = (archived) => listAll("/boards", archived ? { archived } : {});
      const find = (boards) => boards.find((item) => item.id === this.boardId);
      const board = find(await mine(false)) || find(await mine(true));
      if (!this.alive) return;
      if (!board) return this.showNotFound();
      const { members, pages, events } = await this.fetchContents(board);
      if (!this.alive) return;
      this.state.load(board, members, pages);
      this.build();
      this.activity.load(events);
      this.archive.load();
      this.renderAll();
      this.openLinkedTask();
      this.stopOffline = attachOffline(this);
      this.followLive();
    } catch (error) {
      if (!this.alive) return;
      if (error.status === 404) return this.showNotFound();
      this.container.replaceChildren(h("section", { class: "empty-state" }, h("h1", {}, "Couldn't load this board"),
        h("p", {}, error.message), h("p", {}, h("a", { href: window.location.pathname }, "Try again"))));
    }
  }

  async fetchContents(board) {
    const base = `/boards/${board.id}`;
    const [members, events, ...firstPages] = await Promise.all([
      api("GET", `${base}/members`),
      api("GET", `${base}/events`, { query: { after: Math.max(0, board.seq - FEED_SIZE), limit: FEED_SIZE } }),
      ...board.columns.map((column) => this.fetchPage(column)),
    ]);
    const pages = Object.fromEntries(board.columns.map((column, index) => [column, firstPages[index]]));
    return { members: members.items, pages, events: events.items };
  }

  fetchPage(column, cursor = null) {
    return api("GET", `/boards/${this.boardId}/tasks`,
               { query: { status: column, sort: "position", limit: COLUMN_PAGE, include_total: true, cursor } });
  }

  /** The next page of one column ("Show more"). */
  async loadMore(column) {
    const more = this.state.more.get(column);
    if (!more || this.loadingMore?.has(column)) return;
    this.loadingMore = this.loadingMore || new Set();
    this.loadingMore.add(column);
    try {
      const page = await this.fetchPage(column, more.cursor);
      if (!this.alive || this.state.more.get(column) !== more) return; // a resync started over
      this.state.addPage(column, page);
      this.scheduleRender();
    } catch (error) {
      toast(`Couldn't load more tasks: ${error.message}`, "error");
    } finally {
      this.loadingMore.delete(column);
    }
  }

  build() {
    this.header = new BoardHeader({ onNewTask: () => this.dialog.openNew(this.visibleColumns()[0]) });
    this.filters = new FilterBar({ onChange: (values) => { replaceQuery(filtersToQuery(values)); this.scheduleRender(); } });
    this.filters.set(filtersFromQuery(currentRoute().query));
    this.columns = new ColumnsView({
      state: this.state, onOpenTask: (id) => this.dialog.open(id), onAddTask: (column) => this.dialog.openNew(column),
      onLoadMore: (column) => this.loadMore(column),
    });
    const scroller = h("div", { class: "columns-scroller" }, this.columns.element);
    this.dnd = new DragAndDrop(this.columns.element, scroller, {
      enabled: () => this.state.canEdit, onDrop: (...move) => this.moveTask(...move),
      onSettle: () => { if (this.renderHeld) this.scheduleRender(); },
      onShift: () => this.columns.recount(),
    });
    this.dialog = new TaskDialog({
      state: this.state,
      live: this.live,
      // `change`: my save (its `from` is the column the task was in, null when new); none: not my save.
      onSaved: (task, change) => {
        this.showTask(task);
        if (!change) return;
        if (change.from !== task.status) this.warnOverLimit(task.status);
        this.undo.edited(task, change);
      },
      onDeleted: (id, task) => { this.hideTask(id); this.undo.deleted(task); },
      onArchived: (task) => { this.hideTask(task.id); this.undo.archived(task); },
    });
    this.undo = new BoardUndo({ state: this.state, dialog: this.dialog, api,
                                show: (task) => this.showTask(task), hide: (id) => this.hideTask(id) });
    this.dialog.element.addEventListener("checklist-change", (event) => this.undo.checklistChanged(event.detail));
    this.activity = new ActivityFeed({ state: this.state });
    this.settings = new BoardSettings({ state: this.state });
    this.members = new MembersPanel({
      state: this.state, onChanged: () => this.renderAll(), onLeft: () => this.showNotFound("left"),
    });
    this.archive = new ArchivePanel({ state: this.state, onRestored: (task) => this.showTask(task) });
    this.boardArchive = new BoardArchiveControl({ state: this.state, onChanged: () => this.renderAll() });
    this.side = new SidePanel([["Activity", this.activity.element], ["Members", this.members.element],
                               ["Archive", this.archive.element]]);
    this.container.replaceChildren(h("section", { class: "board-page", "aria-labelledby": "board-title" },
      this.header.element, this.boardArchive.banner, this.filters.element,
      h("div", { class: "board-body" }, scroller, this.side.element),
      h("p", { id: "dnd-help", class: "visually-hidden" },
        "To move a task with the keyboard, press Space on its move button, use the arrow keys, then Enter to drop or Escape to cancel."),
      this.dialog.element, this.settings.element));
    this.header.name.id = "board-title";
    this.shortcuts = new BoardShortcuts({
      focusSearch: () => this.filters.search.focus(),
      newTask: () => { if (this.state.canEdit) this.dialog.openNew(this.visibleColumns()[0]); },
    });
    this.container.querySelector(".board-page").append(this.shortcuts.element);
    this.settingsButton = h("button", { type: "button", class: "btn-icon", "aria-label": "Board settings",
                                        title: "Board settings", "data-testid": "board-settings-button",
                                        onclick: () => this.settings.open() }, settingsIcon());
    this.header.element.querySelector(".board-head-end").prepend(this.boardArchive.button, this.settingsButton, h("button", {
      type: "button", class: "btn-icon", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)",
      onclick: () => this.shortcuts.element.showModal() }, "?"));
  }

  showTask(task) {
    this.state.upsertTask(task, true);
    this.scheduleRender();
  }

  hideTask(id) {
    this.state.tasks.delete(id);
    this.scheduleRender();
  }

  visibleColumns() {
    const { status } = this.filters.values;
    return status && this.state.board.columns.includes(status) ? [status] : this.state.board.columns;
  }

  /** Everything, including the panels (after load, a resync, or a member change). */
  renderAll() {
    this.header.setBoard(this.state.board, this.state.canEdit);
    this.settingsButton.hidden = !this.state.canManageMembers;
    this.settings.render();
    this.boardArchive.render();
    this.members.render();
    this.side.setCount(1, this.state.members.size);
    this.scheduleRender();
  }

  /** Coalesce many live events into one DOM update; hold it while a card is being moved,
   * so a live change cannot yank the card out from under the pointer or the keyboard. */
  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      if (this.alive && this.columns) this.render();
    });
  }

  render() {
    if (this.dnd.busy || this.moving) {
      this.renderHeld = true;
      return;
    }
    this.renderHeld = false;
    const values = this.filters.values;
    const visible = (task) => taskMatches(task, values, this.state.me.id);
    this.columns.render(visible, this.visibleColumns());
    for (const id of this.flashes) this.columns.flash(id);
    this.flashes.clear();
    this.filters.setOptions({ board: this.state.board, labels: this.state.labels(),
                              members: [...this.state.members.values()] });
    const all = [...this.state.tasks.values()];
    this.filters.showCount(all.filter(visible).length, all.length, this.state.more.size > 0);
  }

  async moveTask(taskId, status, before, after) {
    this.moving += 1;
    const place = this.placeOf(taskId);
    try {
      const task = await api("POST", `/tasks/${taskId}/move`, { body: { status, before, after } });
      this.state.upsertTask(task, true);
      if (place?.status !== status) this.warnOverLimit(status);
      if (place) this.undo.moved(task, place);
    } catch (error) {
      toast(`Couldn't move the task: ${error.message}`, "error");
    } finally {
      this.moving -= 1;
      this.scheduleRender();
    }
  }

  /** My change put a task in a column over its work-in-progress limit: say so (it is a
   * warning; the server never refuses). */
  warnOverLimit(status) {
    const limit = this.state.board.wip_limits?.[status];
    const total = this.state.tasksIn(status).length + (this.state.remaining(status) || 0);
    if (limit != null && total > limit) {
      toast(`${columnLabel(status, this.state.board)} is over its limit: ${total} tasks, limit ${limit}.`, "warning");
    }
  }

  /** Where a task is now: its column and neighbours, for moving it back. */
  placeOf(taskId) {
    const task = this.state.tasks.get(taskId);
    if (!task) return null;
    const column = this.state.tasksIn(task.status);
    const index = column.findIndex((item) => item.id === taskId);
    return { status: task.status, before: column[index - 1]?.id ?? null, after: column[index + 1]?.id ?? null };
  }

  /** `?task=<id>` (a notification's link): open that task once the board is shown. */
  openLinkedTask() {
    const taskId = currentRoute().query.get("task");
    if (!taskId) return;
    replaceQuery(filtersToQuery(this.filters.values)); // opened once, not again on reload
    if (this.state.tasks.has(taskId)) return this.dialog.open(taskId);
    // Not in the pages loaded so far: ask for it (a 404 is only the board-membership check's
    // second line, as the board is mine; the task may be gone, though).
    return api("GET", `/tasks/${taskId}`).then((task) => {
      if (!this.alive || task.board_id !== this.boardId) return;
      this.state.upsertTask(task, true);
      this.scheduleRender();
      this.dialog.open(taskId);
    }).catch(() => toast("That task no longer exists."));
  }

  // -- live ------------------------------------------------------------------------------
  /** Subscribe on the app's socket, now and after every reconnect, from the last seq applied.
   * "Live" shows once this board is subscribed, not merely once the socket is. */
  followLive() {
    this.leaveLive = this.live.join({
      subscribe: (id) => {
        this.subscribeId = id;
        return { type: "subscribe", board: this.boardId, since: this.state.seq, id };
      },
      unsubscribe: () => ({ type: "unsubscribe", board: this.boardId }),
      receive: (message) => this.receive(message),
    });
    this.stopStatus = this.live.onStatus((status) => { if (status !== "live") this.header.setStatus(status); });
  }

  stopLive() {
    this.leaveLive?.();
    this.stopStatus?.();
    this.leaveLive = this.stopStatus = null;
  }

  receive(message) {
    // Errors carry no board: ours is the one answering our subscribe.
    const ours = message.board === this.boardId || (message.type === "error" && message.id === this.subscribeId);
    if (!this.alive || !ours) return;
    switch (message.type) {
      case "event": return this.receiveEvent(message);
      case "subscribed":
        this.header.setStatus("live");
        return message.seq > this.state.seq ? this.resync() : undefined;
      case "reset": return this.resync();
      case "presence": return this.header.setPresence(message.users || []);
      case "unsubscribed":
        if (message.reason === "board_deleted") return this.showNotFound("deleted");
        return message.reason === "removed" ? this.showNotFound("removed") : undefined;
      case "error": return message.code === "not_found" ? this.showNotFound("removed") : undefined;
      default: return undefined;
    }
  }

  receiveEvent(message) {
    if (this.resyncing) {
      this.buffered.push(message);
      return;
    }
    if (message.seq <= this.state.seq) return; // a replay overlapping what REST gave us
    if (message.seq > this.state.seq + 1) {
      // A gap should never happen (the server fills gaps); if it does, REST is the truth.
      this.buffered.push(message);
      this.resync();
      return;
    }
    this.applyEvent(message);
  }

  applyEvent(message) {
    this.activity.add(message); // first: describing a removal needs the member's name
    const change = this.state.apply(message);
    if (change.lostAccess) return this.showNotFound("removed");
    this.undo.observe(message);
    this.dialog.receive(message);
    this.archive.receive(message);
    this.members.receive(message);
    const byOther = message.actor !== this.state.me.id;
    const who = this.state.members.get(message.actor)?.name || "Someone else";
    if (change.task && byOther) {
      this.flashes.add(change.task);
      // A checklist change leaves the dialog's fields alone: the dialog follows it (no warning).
      if (!change.checklist) this.dialog.noteLiveChange(change.task, false, who, message.data.version);
    }
    if (change.removedTask && byOther) this.dialog.noteLiveChange(change.removedTask, true, who);
    if (change.members || change.board) this.renderAll();
    else this.scheduleRender();
    return undefined;
  }

  /** Refetch the board over REST (after `reset` or a gap), then apply the events that
   * arrived meanwhile and are newer than what REST returned. */
  async resync() {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const board = await api("GET", `/boards/${this.boardId}`);
      const { members, pages, events } = await this.fetchContents(board);
      if (!this.alive) return;
      this.state.load(board, members, pages);
      this.undo.forget(); // what REST caught up on may hold a later change of mine
      this.activity.load(events);
      this.archive.load();
      const later = this.buffered.filter((message) => message.seq > this.state.seq).sort((a, b) => a.seq - b.seq);
      this.buffered = [];
      this.resyncing = false;
      for (const message of later) this.applyEvent(message);
      this.renderAll();
    } catch (error) {
      if (error.status === 404) this.showNotFound("removed");
      else toast(`Couldn't refresh the board: ${error.message}`, "error");
    } finally {
      this.resyncing = false;
    }
  }

  /** Instead of the board: why it isn't (or is no longer) shown. */
  showNotFound(why = "missing") {
    this.stopLive();
    this.dialog?.close();
    this.settings?.close();
    const [title, text] = {
      missing: ["Board not found", "It doesn't exist, or you aren't a member of it."],
      removed: ["You no longer have access to this board", "You were removed from it."],
      left: ["You left this board", "Ask a member to invite you again if you need it."],
      deleted: ["This board was deleted", "Its tasks and history are gone."],
    }[why];
    document.title = `${title} · Taskwire`;
    this.container.replaceChildren(h("section", { class: "empty-state", "data-testid": "board-not-found" },
      h("h1", {}, title), h("p", {}, text),
      h("p", {}, h("a", { href: "/", "data-link": true, class: "btn btn-primary" }, "Back to your boards"))));
  }

  destroy() {
    this.alive = false;
    this.stopOffline?.();
    this.stopLive();
    this.dnd?.destroy();
    this.shortcuts?.destroy();
    this.undo?.destroy();
    this.activity?.destroy();
    this.dialog?.close();
    this.settings?.close();
  }
}

export function mountBoardView(container, boardId, live) {
  const view = new BoardView(container, boardId, live);
  view.start();
  return () => view.destroy();
}
