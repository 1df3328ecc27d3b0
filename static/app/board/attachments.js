// Attachments: the section of the task dialog (list, upload by picking or dropping files,
// download, delete), and what a card shows of them (the newest image's thumbnail as a
// cover, and a paperclip with their count). Files and thumbnails are fetched with the
// access token and shown through object URLs: an <img src> could not send it.

import { api, fetchWithAuth } from "../api.js";
import { confirmInPlace, h, uid } from "../dom.js";
import { LiveTaskList } from "./live-task-list.js";

const ROLE_RANK = { viewer: 0, editor: 1, admin: 2, owner: 3 };
const SVG = "http://www.w3.org/2000/svg";
const thumbnails = new Map(); // attachment id -> Promise of an object URL

function byId(a, b) {
  // Attachment ids are time-ordered (app/domain/ids.py): id order is upload order.
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function thumbnailUrl(attachmentId) {
  if (!thumbnails.has(attachmentId)) {
    const url = fetchWithAuth(`/attachments/${attachmentId}/thumbnail`)
      .then((response) => response.blob())
      .then((blob) => URL.createObjectURL(blob));
    url.catch(() => thumbnails.delete(attachmentId)); // a later card may try again
    thumbnails.set(attachmentId, url);
  }
  return thumbnails.get(attachmentId);
}

function showThumbnail(img, attachmentId) {
  img.dataset.attachment = attachmentId;
  thumbnailUrl(attachmentId).then((url) => {
    if (img.dataset.attachment === attachmentId) img.src = url;
  }).catch(() => { img.hidden = true; });
}

/** A paperclip drawn as SVG (emoji fonts are not everywhere). */
function paperclip() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M10.5 4.5 5.3 9.7a1.2 1.2 0 0 0 1.7 1.7l5.6-5.6a2.6 2.6 0 0 0-3.7-3.7L3.3 7.7a4 4 0 0 0 5.7 5.7l4.5-4.5");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "1.4");
  path.setAttribute("stroke-linecap", "round");
  svg.append(path);
  return svg;
}

/** The card's chip: a paperclip and how many files the task has (null when none). */
export function attachmentChip(task) {
  if (!task.attachment_count) return null;
  const words = `${task.attachment_count} attachment${task.attachment_count === 1 ? "" : "s"}`;
  return h("span", { class: "card-icon card-attachments", title: words, role: "img", "aria-label": words,
                     "data-testid": "attachment-count" }, paperclip(), String(task.attachment_count));
}

/** The card's cover: the thumbnail of the task's newest image, above its title. */
export function showCover(card, task) {
  let cover = card.querySelector(":scope > .card-cover");
  if (!task.attachment_cover) {
    cover?.remove();
    return;
  }
  if (!cover) {
    // Decorative: the chip says the task has attachments.
    cover = h("img", { class: "card-cover", alt: "", "data-testid": "card-cover", draggable: "false" });
    card.prepend(cover);
  }
  if (cover.dataset.attachment !== task.attachment_cover) showThumbnail(cover, task.attachment_cover);
}

/** An attachment added or deleted: the task's count and cover as the board keeps them. */
export function summaryAfter(task, message) {
  const { data } = message;
  if (message.event === "attachment.added") {
    const newer = data.has_thumbnail && (!task.attachment_cover || data.id > task.attachment_cover);
    return { attachment_count: (task.attachment_count || 0) + 1,
             attachment_cover: newer ? data.id : task.attachment_cover || null };
  }
  // The next newest image is not known here; the next read of the board finds it.
  return { attachment_count: Math.max(0, (task.attachment_count || 0) - 1),
           attachment_cover: task.attachment_cover === data.id ? null : task.attachment_cover || null };
}

async function download(attachment) {
  const response = await fetchWithAuth(`/attachments/${attachment.id}/content`);
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: attachment.name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export class AttachmentPanel extends LiveTaskList {
  constructor({ state }) {
    super("attachments", "attachment.");
    this.state = state;
    this.attachments = new Map();
    this.heading = h("h3", { class: "section-title", id: uid("attachments-title") }, "Attachments");
    this.list = h("ul", { class: "attachment-list", "data-testid": "attachments", "aria-labelledby": this.heading.id });
    this.picker = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "attachment-input" });
    this.attach = h("button", { type: "button", class: "btn btn-ghost btn-small" }, "Attach files");
    // Announced politely; not a role="status" region: the dialog has one (its notice).
    this.status = h("p", { class: "field-hint", "aria-live": "polite" });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.actions = h("div", { class: "attachment-actions" }, this.attach, this.picker,
      h("span", { class: "field-hint" }, "or drop files here"), this.status);
    this.element = h("section", { class: "task-section attachments", "aria-labelledby": this.heading.id,
                                  "data-testid": "attachment-section" },
      this.heading, this.list, this.actions, this.error);
    this.attach.addEventListener("click", () => this.picker.click());
    this.picker.addEventListener("change", () => {
      this.upload([...this.picker.files]);
      this.picker.value = "";
    });
    this.element.addEventListener("dragover", (event) => {
      if (!this.canUpload || !event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      this.element.classList.add("attachments-drop");
    });
    this.element.addEventListener("dragleave", () => this.element.classList.remove("attachments-drop"));
    this.element.addEventListener("drop", (event) => {
      this.element.classList.remove("attachments-drop");
      if (!this.canUpload || !event.dataTransfer?.files.length) return;
      event.preventDefault();
      this.upload([...event.dataTransfer.files]);
    });
  }

  get canUpload() {
    return this.state.canEdit;
  }

  mayDelete(attachment) {
    return this.state.canEdit && (attachment.uploaded_by === this.state.me.id || ROLE_RANK[this.state.role] >= ROLE_RANK.admin);
  }

  async open(taskId) {
    this.taskId = taskId;
    this.attachments = new Map();
    this.pending = [];
    this.actions.hidden = !this.canUpload;
    this.error.hidden = true;
    this.status.textContent = "";
    await this.load(taskId, this.attachments);
  }

  close() {
    this.taskId = null;
    this.pending = null;
  }

  apply(message) {
    if (message.event === "attachment.added") this.attachments.set(message.data.id, message.data);
    else if (message.event === "attachment.deleted") this.attachments.delete(message.data.id);
  }

  render() {
    const items = [...this.attachments.values()].sort(byId);
    this.heading.textContent = items.length ? `Attachments (${items.length})` : "Attachments";
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "muted small" }, this.canUpload ? "No files yet." : "No files."));
      return;
    }
    this.list.replaceChildren(...items.map((attachment) => this.item(attachment)));
  }

  item(attachment) {
    const preview = attachment.has_thumbnail
      ? h("img", { class: "attachment-thumb", alt: "", "data-testid": "attachment-thumb" })
      : h("span", { class: "attachment-thumb attachment-file", "aria-hidden": "true" },
        (attachment.name.split(".").pop() || "file").slice(0, 4).toUpperCase());
    if (attachment.has_thumbnail) showThumbnail(preview, attachment.id);
    const open = h("button", { type: "button", class: "attachment-name", title: `Download ${attachment.name}`,
                               "aria-label": `Download ${attachment.name}` }, attachment.name);
    open.addEventListener("click", () => download(attachment).catch((error) => this.fail(error.message)));
    const remove = this.mayDelete(attachment)
      ? h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Delete ${attachment.name}` }, "Delete")
      : null;
    remove?.addEventListener("click", () => confirmInPlace(remove, () => this.remove(attachment)));
    return h("li", { class: "attachment", "data-id": attachment.id, "data-testid": "attachment" }, preview,
      h("div", { class: "attachment-main" }, open,
        h("span", { class: "small muted" }, `${formatSize(attachment.size)} · ${attachment.content_type}`)),
      remove);
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  async upload(files) {
    const taskId = this.taskId;
    this.error.hidden = true;
    for (const [index, file] of files.entries()) {
      this.status.textContent = `Uploading ${file.name}${files.length > 1 ? ` (${index + 1} of ${files.length})` : ""}…`;
      const form = new FormData();
      form.append("file", file, file.name);
      try {
        const response = await fetchWithAuth(`/tasks/${taskId}/attachments`, { method: "POST", body: form });
        const created = await response.json();
        // The event will say the same; showing it now spares the wait.
        if (this.taskId === taskId) {
          this.attachments.set(created.id, created);
          this.render();
        }
      } catch (error) {
        this.fail(`${file.name}: ${error.message}`);
      }
    }
    this.status.textContent = "";
  }

  async remove(attachment) {
    try {
      await api("DELETE", `/attachments/${attachment.id}`);
      this.attachments.delete(attachment.id);
      this.render();
    } catch (error) {
      this.fail(error.message);
    }
  }
}
