// The open board held in memory: board, my role, members and the tasks loaded so far. Each
// column is read in pages in position order (a large board is never read whole), so what
// is loaded of a column is its head, up to the last task read (`more`); a live change
// beyond that point is left for the next page. WebSocket events are applied to it. Events carry whole records with a version, so
// applying one twice, or an older one after a newer REST read, changes nothing.

import { summaryAfter } from "./attachments.js";

const ROLE_RANK = { viewer: 0, commenter: 1, editor: 2, admin: 3, owner: 4 };
export const ROLES = ["viewer", "commenter", "editor", "admin", "owner"];
export const PRIORITIES = ["urgent", "high", "medium", "low"];

export function comparePosition(a, b) {
  // Order keys are ASCII (app/domain/ordering.py); code-unit order is the server's order.
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class BoardState {
  constructor(me) {
    this.me = me;
    this.board = null;
    this.role = "viewer";
    this.members = new Map();
    this.tasks = new Map();
    this.more = new Map(); // column -> {cursor, total, last}: what is not loaded yet
    this.seq = 0;
  }

  /** Adopt a full REST read (first load, or a resync after `reset`). */
  load(board, members, pages) {
    this.board = board;
    this.role = board.role;
    this.seq = board.seq;
    this.members = new Map(members.map((member) => [member.user_id, member]));
    this.tasks = new Map();
    this.more = new Map();
    for (const [column, page] of Object.entries(pages)) this.addPage(column, page);
  }

  /** One page of a column's tasks (GET /boards/{id}/tasks?status=…&sort=position). */
  addPage(column, page) {
    const last = page.items[page.items.length - 1];
    if (page.next_cursor) this.more.set(column, { cursor: page.next_cursor, total: page.total, last });
    else this.more.delete(column);
    // Comment counts come beside the tasks (a comment does not change its task); kept on the
    // task in memory only, where the comment events keep them up to date.
    const counts = page.comment_counts || {};
    const attached = page.attachment_counts || {};
    const covers = page.attachment_covers || {};
    for (const task of page.items) {
      this.upsertTask({ ...task, comment_count: counts[task.id] ?? 0, attachment_count: attached[task.id] ?? 0,
                        attachment_cover: covers[task.id] ?? null });
    }
  }

  /** How many tasks of a column are not loaded yet (null: unknown). */
  remaining(column) {
    const more = this.more.get(column);
    if (!more) return 0;
    return more.total == null ? null : Math.max(0, more.total - this.tasksIn(column).length);
  }

  /** Is the task in the loaded head of its column? */
  withinLoaded(task) {
    const more = this.more.get(task.status);
    return !more || comparePosition(task, more.last) <= 0;
  }

  get canEdit() {
    return ROLE_RANK[this.role] >= ROLE_RANK.editor;
  }

  /** Commenters and up write comments; viewers only read them. */
  get canComment() {
    return ROLE_RANK[this.role] >= ROLE_RANK.commenter;
  }

  get canManageMembers() {
    return ROLE_RANK[this.role] >= ROLE_RANK.admin;
  }

  /** Roles I may grant: never above mine, and owner only by owners (as the server checks). */
  grantableRoles() {
    return ROLES.filter((role) => ROLE_RANK[role] <= ROLE_RANK[this.role] && (role !== "owner" || this.role === "owner"));
  }

  mayManage(member) {
    return this.canManageMembers && member.user_id !== this.me.id && (member.role !== "owner" || this.role === "owner");
  }

  memberName(userId) {
    if (userId === this.me.id) return "You";
    return this.members.get(userId)?.name || "Someone";
  }

  tasksIn(column) {
    return [...this.tasks.values()].filter((task) => task.status === column).sort(comparePosition);
  }

  labels() {
    const labels = new Set();
    for (const task of this.tasks.values()) for (const label of task.labels) labels.add(label);
    return [...labels].sort((a, b) => a.localeCompare(b));
  }

  /** Keep the newer of two versions of a task; true when the stored one changed. `mine`: my
   * own write's answer, kept even beyond the loaded head (where I just put it). */
  upsertTask(task, mine = false) {
    // Archived (an import makes archived cards so, in their task.created): off the board.
    if (task.archived_at) return this.tasks.delete(task.id);
    const known = this.tasks.get(task.id);
    if (known && known.version > task.version) return false;
    if (!mine && !this.withinLoaded(task)) {
      // Beyond the loaded part of its column: the page that reaches it will show it.
      return this.tasks.delete(task.id);
    }
    if (known && known.version === task.version && known.position === task.position && known.status === task.status) {
      return false;
    }
    // Only the board's task list counts comments (addPage); events and write answers carry
    // none, and the comment events keep the one we have up to date.
    const comments = task.comment_count ?? known?.comment_count ?? 0;
    const attachment_count = task.attachment_count ?? known?.attachment_count ?? 0;
    const attachment_cover = task.attachment_cover !== undefined ? task.attachment_cover : known?.attachment_cover ?? null;
    this.tasks.set(task.id, { ...task, comment_count: comments, attachment_count, attachment_cover });
    return true;
  }

  /** A comment added (+1) or deleted (-1) on a task; true if the board has that task. */
  countComment(taskId, step) {
    const task = this.tasks.get(taskId);
    if (!task) return false;
    this.tasks.set(taskId, { ...task, comment_count: Math.max(0, (task.comment_count || 0) + step) });
    return true;
  }

  /**
   * Apply one `event` message (already checked to be the next seq). Returns what changed:
   * {task, removedTask, comments (the task whose count changed), checklist (a checklist change: no
   * need to warn an editor of the task), members, board, lostAccess}.
   */
  apply(message) {
    const change = { task: null, removedTask: null, comments: null, checklist: false, members: false, board: false,
                     lostAccess: false };
    const { data } = message;
    this.seq = Math.max(this.seq, message.seq);
    switch (message.event) {
      case "task.created":
      case "task.updated":
      case "task.moved":
      case "task.unarchived":
      case "task.restored":
        if (data.board_id === this.board.id && this.upsertTask(data)) change.task = data.id;
        break;
      case "checklist_item.created":
      case "checklist_item.updated":
      case "checklist_item.moved":
      case "checklist_item.deleted":
        // The task after the change rides in the event: applied like any newer version of it.
        if (data.task?.board_id === this.board.id && this.upsertTask(data.task)) change.task = data.task_id;
        change.checklist = true;
        break;
      case "column.created":
      case "column.updated":
      case "column.moved":
      case "column.deleted":
        this.board = { ...this.board, ...data.board, role: this.role };
        change.board = true;
        break;
      case "task.archived":
        // Off the board, like a deletion: the archive lists it (archive.js).
        if (this.tasks.delete(data.id)) change.removedTask = data.id;
        break;
      case "comment.created":
      case "comment.deleted":
        if (this.countComment(data.task_id, message.event === "comment.created" ? 1 : -1)) change.comments = data.task_id;
        break;
      case "attachment.added":
      case "attachment.deleted": {
        const task = this.tasks.get(data.task_id);
        if (task) this.tasks.set(task.id, { ...task, ...summaryAfter(task, message) });
        break;
      }
      case "task.deleted":
        if (this.tasks.delete(data.id)) change.removedTask = data.id;
        break;
      case "board.updated":
      case "board.archived":
      case "board.unarchived":
        // An unarchived board's data has no archived_at: drop the one we had.
        this.board = { ...this.board, archived_at: undefined, ...data, role: this.role };
        change.board = true;
        break;
      case "member.added":
      case "member.updated":
        this.members.set(data.user_id, data);
        if (data.user_id === this.me.id) this.role = data.role;
        change.members = true;
        break;
      case "member.removed":
        this.members.delete(data.user_id);
        change.members = true;
        change.lostAccess = data.user_id === this.me.id;
        break;
      default:
        break;
    }
    return change;
  }
}
