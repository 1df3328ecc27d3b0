// The comment thread in the task dialog: newest last, live over the board's events, edit
// and delete your own (admins may delete any, as the server allows), and @mentions typed
// with an autocomplete of the board's members.

import { api } from "../api.js";
import { avatar, confirmInPlace, h, timeAgo, uid } from "../dom.js";
import { LiveTaskList } from "./live-task-list.js";
import { MentionPicker } from "./mentions.js";

// Comments of a deleted account name this author (docs/identity.md).
const DELETED_USER = "deleted-user";

function byId(a, b) {
  // Comment ids are time-ordered (app/domain/ids.py): id order is the order they were made.
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class CommentThread extends LiveTaskList {
  constructor({ state }) {
    super("comments", "comment.");
    this.state = state;
    this.comments = new Map();
    this.editing = null; // the id of my comment being edited
    this.heading = h("h3", { class: "section-title", id: uid("comments-title") }, "Comments");
    this.list = h("ol", { class: "comment-list", "data-testid": "comments", "aria-labelledby": this.heading.id });
    this.input = h("textarea", { class: "input comment-input", rows: 2, maxlength: 10000, placeholder: "Write a comment… (@ to mention)",
                                 "data-testid": "comment-input" });
    this.mentions = new MentionPicker(this.input, () => this.members());
    this.send = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Comment");
    const inputId = uid("comment");
    this.input.id = inputId;
    this.form = h("form", { class: "comment-form", "aria-label": "New comment" },
      h("label", { class: "visually-hidden", for: inputId }, "Add a comment"),
      h("div", { class: "comment-compose" }, this.input, this.mentions.element),
      h("div", { class: "comment-form-actions" },
        h("span", { class: "field-hint" }, "Ctrl+Enter to send"), this.send));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.create(); });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !this.mentions.open) {
        event.preventDefault();
        this.create();
      }
    });
    this.element = h("section", { class: "task-section comments", "aria-labelledby": this.heading.id },
      this.heading, this.list, this.form);
  }

  members() {
    return [...this.state.members.values()];
  }

  get canComment() {
    return this.state.canComment; // commenters and up write comments; viewers read them
  }

  async open(taskId) {
    this.taskId = taskId;
    this.comments = new Map();
    this.editing = null;
    this.pending = [];
    this.input.value = "";
    this.mentions.close();
    this.form.hidden = !this.canComment;
    await this.load(taskId, this.comments);
  }

  close() {
    this.taskId = null;
    this.mentions.close();
  }

  apply(message) {
    const comment = message.data;
    if (message.event === "comment.deleted") this.comments.delete(comment.id);
    else this.keep(comment);
  }

  /** The newer of two versions of a comment (an edit's answer and its event may cross). */
  keep(comment) {
    const known = this.comments.get(comment.id);
    if (!known || known.updated_at <= comment.updated_at) this.comments.set(comment.id, comment);
  }

  render() {
    const comments = [...this.comments.values()].sort(byId);
    this.heading.textContent = comments.length ? `Comments (${comments.length})` : "Comments";
    if (!comments.length) {
      this.list.replaceChildren(h("li", { class: "muted small comment-empty" }, "No comments yet."));
      return;
    }
    const focused = document.activeElement;
    const focusKey = this.list.contains(focused) ? focused.dataset.focusKey : null;
    this.list.replaceChildren(...comments.map((comment) => this.item(comment)));
    if (focusKey) this.list.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
  }

  item(comment) {
    const author = this.state.members.get(comment.author_id);
    const name = comment.author_id === this.state.me.id ? "You"
      : author?.name || (comment.author_id === DELETED_USER ? "Deleted user" : "A former member");
    const mine = comment.author_id === this.state.me.id;
    const head = h("div", { class: "comment-head" },
      h("span", { class: "comment-author" }, name),
      h("time", { datetime: comment.created_at, title: new Date(comment.created_at).toLocaleString() }, timeAgo(comment.created_at)),
      comment.updated_at !== comment.created_at ? h("span", { class: "muted small" }, "(edited)") : null);
    const body = this.editing === comment.id ? this.editor(comment) : h("p", { class: "comment-body" }, this.bodyNodes(comment));
    const actions = [];
    if (mine && this.canComment && this.editing !== comment.id) {
      actions.push(h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Edit your comment",
                                 "data-focus-key": `edit-${comment.id}`, onclick: () => this.startEdit(comment.id) }, "Edit"));
    }
    if ((mine || this.state.canManageMembers) && this.editing !== comment.id) {
      const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-focus-key": `delete-${comment.id}`,
                                   "aria-label": mine ? "Delete your comment" : `Delete ${name}'s comment` }, "Delete");
      remove.addEventListener("click", () => confirmInPlace(remove, () => this.remove(comment)));
      actions.push(remove);
    }
    return h("li", { class: "comment", "data-id": comment.id, "data-testid": "comment" },
      avatar({ id: comment.author_id, name: author?.name || "?" }, "avatar-small"),
      h("div", { class: "comment-main" }, head, body, actions.length ? h("div", { class: "comment-actions" }, actions) : null));
  }

  /** The body as text, with each mention of a member shown as one (never as HTML). */
  bodyNodes(comment) {
    const names = comment.mentions.map((id) => this.state.members.get(id)).filter(Boolean)
      .flatMap((member) => [member.name, member.email]).filter(Boolean).sort((a, b) => b.length - a.length);
    if (!names.length) return [comment.body];
    const pattern = new RegExp(`@(${names.map(escapeRegExp).join("|")})(?![\\w])`, "giu");
    const nodes = [];
    let last = 0;
    for (const match of comment.body.matchAll(pattern)) {
      nodes.push(comment.body.slice(last, match.index), h("span", { class: "mention" }, match[0]));
      last = match.index + match[0].length;
    }
    nodes.push(comment.body.slice(last));
    return nodes;
  }

  editor(comment) {
    const input = h("textarea", { class: "input comment-input", rows: 2, maxlength: 10000, "aria-label": "Edit your comment",
                                  "data-focus-key": `editing-${comment.id}` });
    input.value = comment.body;
    const picker = new MentionPicker(input, () => this.members());
    const save = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Save comment");
    const cancel = h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => this.stopEdit(comment.id) }, "Cancel");
    const form = h("form", { class: "comment-edit" }, h("div", { class: "comment-compose" }, input, picker.element),
      h("div", { class: "comment-form-actions" }, cancel, save));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.saveEdit(comment, input.value, save); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !picker.open) {
        event.preventDefault(); // not the dialog's: Escape leaves the edit, not the task
        this.stopEdit(comment.id);
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !picker.open) {
        event.preventDefault();
        this.saveEdit(comment, input.value, save);
      }
    });
    queueMicrotask(() => { input.focus(); input.setSelectionRange(input.value.length, input.value.length); });
    return form;
  }

  startEdit(id) {
    this.editing = id;
    this.render();
  }

  stopEdit(id) {
    this.editing = null;
    this.render();
    this.list.querySelector(`[data-focus-key="edit-${id}"]`)?.focus();
  }

  async create() {
    const body = this.input.value.trim();
    if (!body || !this.taskId || this.send.disabled) return;
    const taskId = this.taskId;
    this.send.disabled = true;
    try {
      const comment = await api("POST", `/tasks/${taskId}/comments`, { body: { body } });
      if (this.taskId !== taskId) return;
      this.input.value = "";
      this.keep(comment);
      this.render();
      this.list.lastElementChild?.scrollIntoView({ block: "nearest" });
    } catch (error) {
      this.fail(error);
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }

  async saveEdit(comment, text, button) {
    const body = text.trim();
    if (!body) return;
    if (body === comment.body) return this.stopEdit(comment.id);
    button.disabled = true;
    try {
      this.keep(await api("PATCH", `/comments/${comment.id}`, { body: { body } }));
      this.stopEdit(comment.id);
    } catch (error) {
      button.disabled = false;
      this.fail(error);
    }
    return undefined;
  }

  async remove(comment) {
    try {
      await api("DELETE", `/comments/${comment.id}`);
      this.comments.delete(comment.id);
      this.render();
      this.input.focus();
    } catch (error) {
      if (error.status === 404) {
        this.comments.delete(comment.id); // already gone: someone else deleted it
        this.render();
      } else this.fail(error);
    }
  }

  fail(error) {
    const note = h("li", { class: "form-error", role: "alert" }, `Couldn't save the comment: ${error.message}`);
    this.list.append(note);
    setTimeout(() => note.remove(), 6000);
  }
}
