// The open board held in memory: board, my role, members and every task. REST loads it;
// WebSocket events are applied to it. Events carry whole records with a version, so
// applying one twice, or an older one after a newer REST read, changes nothing.

const ROLE_RANK = { viewer: 0, editor: 1, admin: 2, owner: 3 };
export const ROLES = ["viewer", "editor", "admin", "owner"];
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
    this.seq = 0;
  }

  /** Adopt a full REST read (first load, or a resync after `reset`). */
  load(board, members, tasks) {
    this.board = board;
    this.role = board.role;
    this.seq = board.seq;
    this.members = new Map(members.map((member) => [member.user_id, member]));
    this.tasks = new Map(tasks.map((task) => [task.id, task]));
  }

  get canEdit() {
    return ROLE_RANK[this.role] >= ROLE_RANK.editor;
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

  /** Keep the newer of two versions of a task; true when the stored one changed. */
  upsertTask(task) {
    const known = this.tasks.get(task.id);
    if (known && known.version > task.version) return false;
    if (known && known.version === task.version && known.position === task.position && known.status === task.status) {
      return false;
    }
    // Only the board's task list counts comments; events and write answers leave the count
    // out, and the comment events keep the one we have up to date.
    const comments = task.comment_count ?? known?.comment_count ?? 0;
    this.tasks.set(task.id, { ...task, comment_count: comments });
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
   * {task, removedTask, comments (the task whose count changed), members, board, lostAccess}.
   */
  apply(message) {
    const change = { task: null, removedTask: null, comments: null, members: false, board: false, lostAccess: false };
    const { data } = message;
    this.seq = Math.max(this.seq, message.seq);
    switch (message.event) {
      case "task.created":
      case "task.updated":
      case "task.moved":
        if (data.board_id === this.board.id && this.upsertTask(data)) change.task = data.id;
        break;
      case "comment.created":
      case "comment.deleted":
        if (this.countComment(data.task_id, message.event === "comment.created" ? 1 : -1)) change.comments = data.task_id;
        break;
      case "task.deleted":
        if (this.tasks.delete(data.id)) change.removedTask = data.id;
        break;
      case "board.updated":
        this.board = { ...this.board, ...data, role: this.role };
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
