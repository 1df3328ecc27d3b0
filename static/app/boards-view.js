// The boards you are a member of, a form to create one, and your trash: the boards you
// owned that were deleted, to restore or delete for good until the trash is emptied.

import { api, listAll } from "./api.js";
import { announce, clear, columnLabel, confirmInPlace, flash, h, quoted, timeAgo } from "./dom.js";
import { importPanel } from "./import-view.js";
import { navigate } from "./router.js";
import { toast } from "./toast.js";

const RECONNECT_READ_DELAY_MS = 1500;

function boardCard(board) {
  return h("li", { class: "board-tile", "data-id": board.id, "data-testid": "board-tile" },
    h("a", { href: `/boards/${board.id}`, "data-link": true, class: "board-tile-link" },
      h("span", { class: "board-tile-name" }, board.name),
      board.description ? h("span", { class: "board-tile-desc" }, board.description) : null,
      h("span", { class: "board-tile-meta" },
        h("span", { class: `role-badge role-${board.role}` }, board.role),
        h("span", {}, board.columns.map((column) => columnLabel(column, board)).join(" · ")))));
}

const DAY_MS = 86_400_000;

function daysLeft(purgeAt) {
  const days = Math.max(0, Math.ceil((new Date(purgeAt) - Date.now()) / DAY_MS));
  return days === 1 ? "1 day" : `${days} days`;
}

/** The Trash section: hidden while it is empty (only owners ever have anything in it). */
function trashSection(reload) {
  const list = h("ul", { class: "archive-list", "data-testid": "board-trash" });
  const hint = h("p", { class: "muted small" });
  const element = h("section", { class: "board-trash", "aria-labelledby": "board-trash-title", hidden: true },
    h("h2", { class: "section-title", id: "board-trash-title" }, "Trash"), hint, list);

  const act = (button, send, done) => async () => {
    button.disabled = true;
    try {
      await send();
      toast(done);
      reload();
    } catch (error) {
      toast(error.message, "error");
      button.disabled = false;
    }
  };

  function row(entry) {
    const restore = h("button", { type: "button", class: "btn btn-ghost btn-small",
                                  "aria-label": `Restore ${entry.name}` }, "Restore");
    restore.addEventListener("click", act(restore, () => api("POST", `/boards/trash/${entry.id}/restore`),
      `Restored ${quoted(entry.name)}.`));
    const forever = h("button", { type: "button", class: "btn btn-danger-ghost btn-small",
                                  "aria-label": `Delete ${entry.name} for good` }, "Delete for good");
    const purge = act(forever, () => api("DELETE", `/boards/trash/${entry.id}`), `Deleted ${quoted(entry.name)} for good.`);
    forever.addEventListener("click", () => confirmInPlace(forever, purge));
    return h("li", { class: "archive-item", "data-id": entry.id, "data-testid": "trashed-board" },
      h("div", { class: "archive-who" }, h("span", { class: "archive-title" }, entry.name),
        h("span", { class: "muted small" }, `Deleted ${timeAgo(entry.deleted_at)} · emptied in ${daysLeft(entry.purge_at)}`)),
      h("div", { class: "archive-actions" }, restore, forever));
  }

  return {
    element,
    render(trash) {
      element.hidden = !trash.items.length;
      hint.textContent = `Deleted boards stay here for ${trash.retention_days} days, then go for good with all they hold.`;
      list.replaceChildren(...trash.items.map(row));
    },
  };
}

export function mountBoardsView(container, live) {
  document.title = "Boards · Taskwire";
  const list = h("ul", { class: "board-grid", "aria-label": "Your boards", "aria-busy": "true" });
  const name = h("input", { class: "input", id: "new-board-name", name: "name", required: true, maxlength: 200,
                            placeholder: "e.g. Website launch" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Create board");
  const form = h("form", { class: "new-board-form", "aria-label": "Create a board" },
    h("label", { class: "field-label", for: "new-board-name" }, "New board"),
    h("div", { class: "inline-form" }, name, submit));
  let alive = true;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const board = await api("POST", "/boards", { body: { name: name.value.trim() } });
      navigate(`/boards/${board.id}`);
    } catch (error) {
      toast(error.message, "error");
      submit.disabled = false;
    }
  });

  const trash = trashSection(() => load());
  container.append(h("section", { class: "page boards-page" },
    h("div", { class: "page-head" }, h("h1", {}, "Your boards")), form,
    importPanel({ onDone: () => load() }), list, trash.element));

  let shown = null; // ids on screen; null before the first list
  const restored = new Set(); // boards told restored: they come back rather than being new
  // Reads overlap (the first one and a notification's): only the newest may draw, or an
  // older answer arriving last would take away a board the newer one showed.
  let reads = 0;
  const load = () => {
    const read = ++reads;
    return Promise.all([listAll("/boards"), api("GET", "/boards/trash")]).then(([boards, trashed]) => {
      if (!alive || read !== reads) return;
      trash.render(trashed);
      const fresh = shown ? boards.filter((board) => !shown.has(board.id)) : [];
      shown = new Set(boards.map((board) => board.id));
      clear(list).removeAttribute("aria-busy");
      if (!boards.length) list.append(h("li", { class: "muted" }, "No boards yet: create one above."));
      for (const board of boards) list.append(boardCard(board));
      for (const board of fresh) {
        flash(list.querySelector(`[data-id="${CSS.escape(board.id)}"] .board-tile-link`), "card-flash");
        announce(restored.delete(board.id) ? `${board.name} was restored.` : `You were added to ${board.name}.`);
      }
    }).catch((error) => alive && read === reads && toast(error.message, "error"));
  };
  load();
  // Being added to a board is a notification on the socket the bell keeps open; the list is
  // read again then, and after a reconnect (notifications.subscribed) for what was missed,
  // but not on the socket's first connect: the read above is as new as that. A reconnect's
  // read waits a moment: a sign-out also reconnects the socket just before this view goes,
  // and a read with the revoked token would only fail.
  let firstConnect = live.status !== "live";
  let later = null;
  const stop = live.listen((message) => {
    if (message.type === "notification" && message.notification?.type === "member.added") load();
    // A board of mine went to the trash or came back (whoever did it).
    if (message.type === "boards.changed") {
      if (message.reason === "board_restored") restored.add(message.board);
      load();
    }
    if (message.type !== "notifications.subscribed") return;
    if (firstConnect) firstConnect = false;
    else {
      clearTimeout(later);
      later = setTimeout(load, RECONNECT_READ_DELAY_MS);
    }
  });

  return () => { alive = false; clearTimeout(later); stop(); };
}
