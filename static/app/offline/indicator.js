// The top bar's sync status: "Offline · 3 changes waiting", "Syncing 3 changes…", or
// nothing when all is sent.

import { h } from "../dom.js";
import { onOutbox, status } from "./outbox.js";

const changes = (count) => `${count} ${count === 1 ? "change" : "changes"}`;

export function syncIndicator() {
  const element = h("span", { class: "sync-status", role: "status", "data-testid": "sync-status", hidden: true });
  const render = () => {
    const { waiting, syncing } = status();
    let text = "";
    if (!navigator.onLine) text = waiting ? `Offline · ${changes(waiting)} waiting` : "Offline";
    else if (syncing) text = `Syncing ${changes(waiting)}…`;
    else if (waiting) text = `${changes(waiting)} waiting`;
    element.textContent = text;
    element.hidden = !text;
    element.dataset.waiting = String(waiting);
  };
  const stop = onOutbox(render);
  window.addEventListener("online", render);
  window.addEventListener("offline", render);
  render();
  element.destroy = () => {
    stop();
    window.removeEventListener("online", render);
    window.removeEventListener("offline", render);
  };
  return element;
}
