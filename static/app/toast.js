// Transient notices in a polite live region: errors from saves, "you're offline", etc.
import { h } from "./dom.js";

const TOAST_MS = 5000;

export function toast(message, kind = "info") {
  const host = document.getElementById("toasts");
  if (!host) return;
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "×");
  const node = h("div", { class: `toast toast-${kind}` }, h("span", { class: "toast-text" }, message), close);
  const remove = () => node.remove();
  close.addEventListener("click", remove);
  host.append(node);
  setTimeout(remove, kind === "error" ? TOAST_MS * 2 : TOAST_MS);
}
