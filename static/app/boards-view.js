// The boards you are a member of, and a form to create one.

import { api, listAll } from "./api.js";
import { announce, clear, columnLabel, flash, h } from "./dom.js";
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

  container.append(h("section", { class: "page boards-page" },
    h("div", { class: "page-head" }, h("h1", {}, "Your boards")), form,
    importPanel({ onDone: () => load() }), list));

  let shown = null; // ids on screen; null before the first list
  const load = () => listAll("/boards").then((boards) => {
    if (!alive) return;
    const fresh = shown ? boards.filter((board) => !shown.has(board.id)) : [];
    shown = new Set(boards.map((board) => board.id));
    clear(list).removeAttribute("aria-busy");
    if (!boards.length) list.append(h("li", { class: "muted" }, "No boards yet: create one above."));
    for (const board of boards) list.append(boardCard(board));
    for (const board of fresh) {
      flash(list.querySelector(`[data-id="${CSS.escape(board.id)}"] .board-tile-link`), "card-flash");
      announce(`You were added to ${board.name}.`);
    }
  }).catch((error) => alive && toast(error.message, "error"));
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
    if (message.type !== "notifications.subscribed") return;
    if (firstConnect) firstConnect = false;
    else {
      clearTimeout(later);
      later = setTimeout(load, RECONNECT_READ_DELAY_MS);
    }
  });

  return () => { alive = false; clearTimeout(later); stop(); };
}
