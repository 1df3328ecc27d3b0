// "Watch" / "Watching": a toggle for a task or a whole board (PUT …/watch). Watchers hear
// of comments, moves and new due dates where their preferences send them.

import { api } from "../api.js";
import { h } from "../dom.js";
import { toast } from "../toast.js";

export class WatchToggle {
  constructor(what) {
    this.what = what; // "task" or "board", for the button's accessible name
    this.path = null;
    this.element = h("button", { type: "button", class: "btn btn-small btn-ghost watch-toggle", hidden: true,
                                 "aria-pressed": "false", "data-testid": `watch-${what}` }, "Watch");
    this.element.addEventListener("click", () => this.toggle());
  }

  async load(path) {
    this.path = path;
    this.element.hidden = true;
    try {
      const { watching } = await api("GET", path);
      if (this.path === path) this.show(watching);
    } catch {
      // Not shown when it cannot be read: watching is an extra, the view works without it.
    }
  }

  hide() {
    this.path = null;
    this.element.hidden = true;
  }

  show(watching) {
    this.element.hidden = false;
    this.element.setAttribute("aria-pressed", String(watching));
    this.element.textContent = watching ? "Watching" : "Watch";
    this.element.title = watching
      ? `You hear of this ${this.what}'s comments and changes. Click to stop.`
      : `Hear of this ${this.what}'s comments and changes.`;
  }

  async toggle() {
    const path = this.path;
    const watching = this.element.getAttribute("aria-pressed") !== "true";
    this.element.disabled = true;
    try {
      const answer = await api("PUT", path, { body: { watching } });
      if (this.path === path) this.show(answer.watching);
    } catch (problem) {
      toast(problem.message, "error");
    } finally {
      this.element.disabled = false;
    }
  }
}
