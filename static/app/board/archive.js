// The board's archive and trash, a tab of the side panel: archived tasks (off the board,
// kept whole) and deleted ones (restorable until the trash is emptied). Editors bring
// them back; admins can delete from the trash for good. Follows the board's live events.

import { api } from "../api.js";
import { confirmInPlace, h, timeAgo } from "../dom.js";
import { toast } from "../toast.js";

const LIST_EVENTS = new Set(["task.archived", "task.unarchived", "task.deleted", "task.restored", "task.purged"]);
const DAY_MS = 86_400_000;

function daysLeft(purgeAt) {
  const days = Math.max(0, Math.ceil((new Date(purgeAt) - Date.now()) / DAY_MS));
  return days === 1 ? "1 day" : `${days} days`;
}

export class ArchivePanel {
  constructor({ state, onRestored }) {
    this.state = state;
    this.onRestored = onRestored;
    this.archived = h("ul", { class: "archive-list", "data-testid": "archived-tasks" });
    this.trash = h("ul", { class: "archive-list", "data-testid": "trash" });
    this.element = h("div", { class: "panel-body archive-panel" },
      h("h3", { class: "panel-subtitle" }, "Archived tasks"), this.archived,
      h("h3", { class: "panel-subtitle" }, "Trash"),
      this.hint = h("p", { class: "muted small" }), this.trash);
    this.loading = null;
  }

  get boardPath() {
    return `/boards/${this.state.board.id}`;
  }

  /** Read both lists again (coalesced: one read at a time, one more if asked meanwhile). */
  async load() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const [archived, trash] = await Promise.all([
          api("GET", `${this.boardPath}/tasks`, { query: { archived: true, sort: "-updated_at", limit: 200 } }),
          api("GET", `${this.boardPath}/trash`),
        ]);
        this.render(archived.items, trash);
      } catch (error) {
        toast(`Couldn't load the archive: ${error.message}`, "error");
      } finally {
        this.loading = null;
      }
      if (this.again) {
        this.again = false;
        await this.load();
      }
    })();
    return this.loading;
  }

  receive(message) {
    if (LIST_EVENTS.has(message.event) || message.data?.archived_at) this.load();
  }

  render(archived, trash) {
    const canEdit = this.state.canEdit;
    this.archived.replaceChildren(...(archived.length ? archived.map((task) => this.row(task.title,
      `Archived ${timeAgo(task.archived_at)}`, canEdit ? this.button("Unarchive", task.title,
        () => api("POST", `/tasks/${task.id}/unarchive`, { body: { version: task.version } }))
        : null))
      : [h("li", { class: "muted small" }, "No archived tasks.")]));
    this.hint.textContent = `Deleted tasks stay here for ${trash.retention_days} days.`;
    this.trash.replaceChildren(...(trash.items.length ? trash.items.map((entry) => this.row(entry.title,
      `Deleted by ${entry.deleted_by === this.state.me.id ? "you" : this.state.memberName(entry.deleted_by)} ${timeAgo(entry.deleted_at)} · emptied in ${daysLeft(entry.purge_at)}`,
      canEdit ? this.button("Restore", entry.title, () => api("POST", `${this.boardPath}/trash/${entry.id}/restore`)) : null,
      this.state.canManageMembers ? this.forever(entry) : null))
      : [h("li", { class: "muted small" }, "The trash is empty.")]));
  }

  row(title, meta, ...actions) {
    return h("li", { class: "archive-item", "data-testid": "archive-item" },
      h("div", { class: "archive-who" }, h("span", { class: "archive-title" }, title),
        h("span", { class: "muted small" }, meta)),
      h("div", { class: "archive-actions" }, actions.filter(Boolean)));
  }

  button(text, title, send) {
    const button = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `${text} ${title}` }, text);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        this.onRestored(await send());
        await this.load();
      } catch (error) {
        toast(error.message, "error");
        button.disabled = false;
      }
    });
    return button;
  }

  forever(entry) {
    const button = h("button", { type: "button", class: "btn btn-danger-ghost btn-small",
                                 "aria-label": `Delete ${entry.title} for good` }, "Delete");
    button.addEventListener("click", () => confirmInPlace(button, async () => {
      try {
        await api("DELETE", `${this.boardPath}/trash/${entry.id}`);
        await this.load();
      } catch (error) {
        toast(error.message, "error");
      }
    }));
    return button;
  }
}
