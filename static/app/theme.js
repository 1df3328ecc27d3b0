// Light and dark: the system's choice (prefers-color-scheme) until the user picks one with
// the toggle in the top bar; the pick is remembered. The stylesheet does the rest through
// color-scheme and light-dark(), so there is one set of colours per theme, not two sheets.

import { h } from "./dom.js";

const KEY = "taskwire.theme";
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function effective() {
  const chosen = localStorage.getItem(KEY);
  return chosen === "dark" || chosen === "light" ? chosen : systemDark.matches ? "dark" : "light";
}

function apply(button) {
  const chosen = localStorage.getItem(KEY);
  if (chosen) document.documentElement.dataset.theme = chosen;
  else delete document.documentElement.dataset.theme;
  button?.setAttribute("aria-pressed", String(effective() === "dark"));
}

/** Apply the remembered theme now and return the toggle button for the top bar. */
export function themeToggle() {
  const button = h("button", { type: "button", class: "btn-icon theme-toggle", "aria-label": "Dark mode",
                               title: "Dark mode", "data-testid": "theme-toggle" }, h("span", { "aria-hidden": "true" }, "◐"));
  button.addEventListener("click", () => {
    // A pick that matches the system is stored anyway: it is what the user asked for.
    localStorage.setItem(KEY, effective() === "dark" ? "light" : "dark");
    apply(button);
  });
  systemDark.addEventListener("change", () => apply(button));
  apply(button);
  return button;
}
