// The activity feed: the board's event log in words ("Bob moved ‘Ship it’ to Done,
// 2 minutes ago"), loaded over REST and extended by live events.

import { avatar, columnLabel, formatDueDate, h, quoted, roleWithArticle, timeAgo } from "../dom.js";

const KEEP = 50;
const TICK_MS = 30_000;

/** REST events say `type`, WebSocket messages say `event`; one shape from here on. */
export function normalise(event) {
  const type = event.type === "event" ? event.event : event.type;
  return { seq: event.seq, type, actor: event.actor, at: event.at, data: event.data || {}, via: event.via };
}

/** A task by title while the board still has it. */
function taskTitle(taskId, state) {
  const task = state.tasks.get(taskId);
  return task ? quoted(task.title) : "a task";
}

/** The task a comment or an attachment is on. */
function commentedTask(data, state) {
  return taskTitle(data.task_id, state);
}

/** Describe an event; call before the event is applied, while a removed member's name is known.
 * Every event type the server logs has its own sentence (app/services: task, board,
 * member and comment events); an unknown one, from a newer server, still reads sensibly. */
export function describe(event, state) {
  const { type, data } = event;
  // A change made with a personal API token (an assistant over MCP, a script) names it.
  const who = state.memberName(event.actor) + (event.via ? ` (via ${quoted(event.via.token_name)})` : "");
  const name = (userId) => (userId === state.me.id ? "you" : state.members.get(userId)?.name || "someone");
  switch (type) {
    case "comment.created":
      return data.mentions?.includes(state.me.id) && event.actor !== state.me.id
        ? `${who} mentioned you on ${commentedTask(data, state)}`
        : `${who} commented on ${commentedTask(data, state)}`;
    case "comment.updated": return `${who} edited a comment on ${commentedTask(data, state)}`;
    case "comment.deleted": return `${who} deleted a comment on ${commentedTask(data, state)}`;
    case "attachment.added": return `${who} attached ${quoted(data.name)} to ${commentedTask(data, state)}`;
    case "attachment.deleted": return `${who} removed the attachment ${quoted(data.name)} from ${commentedTask(data, state)}`;
    case "task.created": return `${who} created ${quoted(data.title)} in ${columnLabel(data.status, state.board)}`;
    case "task.updated": return `${who} updated ${quoted(data.title)}`;
    case "task.moved": return `${who} moved ${quoted(data.title)} to ${columnLabel(data.status, state.board)}`;
    case "task.deleted": return `${who} deleted ${quoted(data.title)}`;
    case "task.recurrence_set": return `${who} made ${taskTitle(data.task_id, state)} repeat`;
    case "task.recurrence_cleared": return `${who} stopped ${taskTitle(data.task_id, state)} repeating`;
    case "task.recurred": return `${quoted(data.title)} came round again${data.due_at ? `, due ${formatDueDate(data.due_at)}` : ""}`;
    case "task.archived": return `${who} archived ${quoted(data.title)}`;
    case "task.unarchived": return `${who} brought back ${quoted(data.title)} from the archive`;
    case "task.restored": return `${who} restored ${quoted(data.title)} from the trash`;
    case "task.purged":
      return event.actor === "system" ? `${quoted(data.title)} was emptied from the trash`
        : `${who} deleted ${quoted(data.title)} for good`;
    case "board.archived": return `${who} archived the board`;
    case "board.unarchived": return `${who} brought the board back from the archive`;
    case "board.deleted": return `${who} moved the board to the trash`;
    case "board.restored": return `${who} restored the board from the trash`;
    case "invitation.created": return `${who} invited ${data.email} as ${roleWithArticle(data.role)}`;
    case "invitation.revoked": return `${who} revoked the invitation of ${data.email}`;
    case "board.updated":
      // Described before it is applied: the board in memory still has the old name.
      return data.name && data.name !== state.board.name ? `${who} renamed the board to ${quoted(data.name)}`
        : `${who} updated the board's details`;
    case "checklist_item.created": return `${who} added ${quoted(data.item.text)} to the checklist of ${quoted(data.task.title)}`;
    case "checklist_item.updated":
      if (data.item.done !== data.previous?.done) {
        return `${who} ${data.item.done ? "ticked" : "unticked"} ${quoted(data.item.text)} on ${quoted(data.task.title)}`;
      }
      return `${who} renamed checklist item ${quoted(data.previous?.text)} to ${quoted(data.item.text)} on ${quoted(data.task.title)}`;
    case "checklist_item.moved": return `${who} reordered the checklist of ${quoted(data.task.title)}`;
    case "checklist_item.deleted": return `${who} removed ${quoted(data.item.text)} from the checklist of ${quoted(data.task.title)}`;
    case "column.created": return `${who} added the column ${quoted(columnLabel(data.column.key, data.board))}`;
    case "column.updated": return describeColumnChange(who, data);
    case "column.moved": return `${who} moved the column ${quoted(columnLabel(data.column.key, data.board))}`;
    case "column.deleted": return `${who} removed the column ${quoted(data.column.name || columnLabel(data.column.key))}`;
    case "member.added":
      if (data.invitation_id) return `${data.user_id === state.me.id ? "You" : data.name} joined as ${roleWithArticle(data.role)} by invitation`;
      return `${who} added ${data.user_id === state.me.id ? "you" : data.name} as ${roleWithArticle(data.role)}`;
    case "member.updated": return `${who} made ${data.user_id === state.me.id ? "you" : data.name} ${roleWithArticle(data.role)}`;
    case "member.removed":
      return data.user_id === event.actor ? `${who} left the board` : `${who} removed ${name(data.user_id)}`;
    default: return `${who} changed the board (${type})`;
  }
}

/** A column renamed, or its work-in-progress limit set or removed (the event says which). */
function describeColumnChange(who, { column, previous, board }) {
  const now = quoted(columnLabel(column.key, board));
  if (previous && previous.name !== column.name) {
    return `${who} renamed the column ${quoted(previous.name || columnLabel(column.key))} to ${now}`;
  }
  if (column.wip_limit == null) return `${who} removed the limit of ${now}`;
  return `${who} limited ${now} to ${column.wip_limit} task${column.wip_limit === 1 ? "" : "s"}`;
}

/** One line of a feed: who, what (`text`), when. The board's feed and a task's history. */
export function activityItem(event, text, state) {
  return h("li", { class: "activity-item" },
    avatar({ id: event.actor, name: state.members.get(event.actor)?.name || "?" }, "avatar-small"),
    h("p", { class: "activity-text" }, text, h("span", { class: "activity-sep" }, ", "),
      h("time", { datetime: event.at, title: new Date(event.at).toLocaleString() }, timeAgo(event.at))));
}

export class ActivityFeed {
  constructor({ state }) {
    this.state = state;
    this.items = []; // newest first: {seq, at, actor, text}
    this.list = h("ol", { class: "activity-list", "data-testid": "activity", "aria-live": "off" });
    this.element = h("div", { class: "panel-body" }, this.list);
    this.timer = setInterval(() => this.render(), TICK_MS);
  }

  /** Events from GET /boards/{id}/events, oldest first. */
  load(events) {
    this.items = events.map(normalise).reverse().map((event) => this.entry(event));
    this.render();
  }

  add(message) {
    const event = normalise(message);
    if (this.items.some((item) => item.seq === event.seq)) return;
    this.items.unshift(this.entry(event));
    this.items.sort((a, b) => b.seq - a.seq);
    this.items.length = Math.min(this.items.length, KEEP);
    this.render();
  }

  entry(event) {
    return { seq: event.seq, at: event.at, actor: event.actor, text: describe(event, this.state) };
  }

  render() {
    if (!this.items.length) {
      this.list.replaceChildren(h("li", { class: "muted small" }, "Nothing has happened here yet."));
      return;
    }
    this.list.replaceChildren(...this.items.map((item) => activityItem(item, item.text, this.state)));
  }

  destroy() {
    clearInterval(this.timer);
  }
}
