// The notifications in words ("Alice assigned you to ‘Ship it’ on Launch, 2 minutes ago"),
// each a link to the board or task it is about. Items are kept by id and updated in place,
// so a live one arriving does not take keyboard focus away from the one you are on.

import { avatar, flash, h, quoted, roleWithArticle, timeAgo } from "../dom.js";

const FLASH_CLASS = "notice-flash";

// task.changed: the parts of a task named in data.changes as a sentence says them
// (app/mail/render.py's change_sentence says the same in emails).
const FIELD_WORDS = {
  title: "title", description: "description", priority: "priority", labels: "labels", assignees: "assignees",
  due_date: "due date", checklist: "checklist", recurrence: "recurrence",
};

function joined(words) {
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

function changeSentence(who, task, data) {
  const changes = data.changes || [];
  const standalone = {
    column: () => `moved ${task} to ${data.column || "another column"}`,
    attachment_added: () => `attached ${data.attachment || "a file"} to ${task}`,
    attachment_removed: () => `removed ${data.attachment || "a file"} from ${task}`,
    archived: () => `archived ${task}`,
    unarchived: () => `brought ${task} back from the archive`,
    trashed: () => `moved ${task} to the trash`,
    restored: () => `restored ${task} from the trash`,
  };
  const clauses = changes.filter((change) => standalone[change]).map((change) => standalone[change]());
  const fields = changes.filter((change) => FIELD_WORDS[change]).map((change) => FIELD_WORDS[change]);
  if (fields.length) {
    clauses.push(clauses.length ? `changed its ${joined(fields)}` : `changed the ${joined(fields)} of ${task}`);
  }
  return `${who} ${joined(clauses.length ? clauses : [`changed ${task}`])}`;
}

export function describe(notification) {
  const who = notification.actor?.name || "Someone";
  const data = notification.data || {};
  const task = quoted(data.task_title || "a task");
  const board = notification.board_name;
  switch (notification.type) {
    case "task.assigned": return `${who} assigned you to ${task} on ${board}`;
    case "comment.mentioned": return `${who} mentioned you on ${task} on ${board}`;
    case "member.added": return `${who} added you to ${board} as ${roleWithArticle(data.role)}`;
    case "comment.watched": return `${who} commented on ${task} on ${board}`;
    case "task.changed": return `${changeSentence(who, task, data)} on ${board}`;
    case "task.created": return `${who} added ${task} to ${board}`;
    case "task.watched":
      return data.column ? `${who} moved ${task} to ${data.column} on ${board}`
        : `${who} changed the due date of ${task} on ${board}`;
    case "task.due_soon":
      return `${task} on ${board} is due ${new Date(data.due_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
    case "task.overdue": return `${task} on ${board} is overdue`;
    default: return `${who} notified you about ${board}`;
  }
}

/** Where a notification leads: its task (opened in the board's task dialog) or its board. */
export function notificationPath(notification) {
  const board = `/boards/${encodeURIComponent(notification.board_id)}`;
  return notification.task_id ? `${board}?task=${encodeURIComponent(notification.task_id)}` : board;
}

export class NotificationList {
  constructor() {
    this.nodes = new Map(); // id -> {item, read, time}
    this.element = h("ol", { class: "notice-list", "aria-label": "Notifications, newest first" });
  }

  /** Show `items` (newest first) in that order, reusing the nodes of those already shown. */
  render(items) {
    const wanted = new Set(items.map((item) => item.id));
    for (const [id, entry] of this.nodes) {
      if (!wanted.has(id)) {
        entry.item.remove();
        this.nodes.delete(id);
      }
    }
    items.forEach((notification, index) => {
      const entry = this.nodes.get(notification.id) || this.build(notification);
      this.setRead(entry, Boolean(notification.read_at));
      // Only the ones out of place move: a node that keeps focus is never taken out.
      const here = this.element.children[index];
      if (here !== entry.item) this.element.insertBefore(entry.item, here || null);
    });
  }

  build(notification) {
    const face = avatar(notification.actor, "avatar-small");
    face.setAttribute("aria-hidden", "true"); // the sentence names them
    const state = h("span", { class: "visually-hidden" });
    const time = h("time", { datetime: notification.at, title: new Date(notification.at).toLocaleString() });
    const excerpt = notification.data?.excerpt;
    const link = h("a", { class: "notice-link", href: notificationPath(notification), "data-link": true,
                          dataset: { id: notification.id } },
      face,
      h("span", { class: "notice-body" },
        h("span", { class: "notice-text" }, state, describe(notification),
          h("span", { class: "notice-sep" }, ", "), time),
        excerpt ? h("span", { class: "notice-excerpt" }, `“${excerpt}”`) : null),
      h("span", { class: "notice-dot", "aria-hidden": "true" }));
    const entry = { item: h("li", { class: "notice", "data-testid": "notification" }, link), state, time,
                    at: notification.at, read: null };
    this.nodes.set(notification.id, entry);
    this.tick(entry);
    return entry;
  }

  setRead(entry, read) {
    if (entry.read === read) return;
    entry.read = read;
    entry.item.classList.toggle("notice-unread", !read);
    entry.state.textContent = read ? "" : "Unread: ";
  }

  focus(id) {
    this.nodes.get(id)?.item.querySelector("a").focus();
  }

  /** The brief highlight on one that just arrived live. */
  highlight(id) {
    const entry = this.nodes.get(id);
    if (entry) flash(entry.item, FLASH_CLASS);
  }

  tick(entry) {
    entry.time.textContent = timeAgo(entry.at);
  }

  /** Refresh the relative times ("2 minutes ago"). */
  tickAll() {
    for (const entry of this.nodes.values()) this.tick(entry);
  }
}
