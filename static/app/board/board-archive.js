// Archiving the board itself (admins and owners): it leaves everyone's boards list and
// stays whole, reachable by its link with a banner that offers to bring it back.

import { api } from "../api.js";
import { h } from "../dom.js";
import { toast } from "../toast.js";

export class BoardArchiveControl {
  constructor({ state, onChanged }) {
    this.state = state;
    this.onChanged = onChanged;
    this.button = h("button", { type: "button", class: "btn btn-ghost btn-small board-archive-toggle",
                                "data-testid": "archive-board" });
    this.button.addEventListener("click", () => this.toggle());
    this.unarchive = h("button", { type: "button", class: "btn btn-small" }, "Unarchive");
    this.unarchive.addEventListener("click", () => this.toggle());
    this.banner = h("p", { class: "board-banner", role: "status", "data-testid": "board-archived", hidden: true },
      "This board is archived: it is not in the boards list. ", this.unarchive);
  }

  get archived() {
    return Boolean(this.state.board.archived_at);
  }

  render() {
    const admin = this.state.canManageMembers;
    this.button.hidden = !admin;
    this.button.textContent = this.archived ? "Unarchive board" : "Archive board";
    this.unarchive.hidden = !admin;
    this.banner.hidden = !this.archived;
  }

  async toggle() {
    this.button.disabled = this.unarchive.disabled = true;
    try {
      const board = await api("POST", `/boards/${this.state.board.id}/${this.archived ? "unarchive" : "archive"}`);
      this.state.board = { ...this.state.board, archived_at: undefined, ...board, seq: this.state.board.seq };
      this.onChanged();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      this.button.disabled = this.unarchive.disabled = false;
    }
  }
}
