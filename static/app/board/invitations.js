// Invitations by link (admins and owners), in the Members tab: inviting an email without
// an account creates a link to copy and pass on (no email is sent yet); the board's open
// invitations are listed, live, with their expiry and a Revoke button.

import { api } from "../api.js";
import { confirmInPlace, h, roleWithArticle, timeAgo } from "../dom.js";
import { toast } from "../toast.js";

export class Invitations {
  constructor({ state }) {
    this.state = state;
    this.linkBox = h("div", { class: "invite-link", hidden: true, "data-testid": "invite-link" });
    this.list = h("ul", { class: "member-list invitation-list", "data-testid": "invitations" });
    this.element = h("section", { class: "invitations", hidden: true },
      this.linkBox, h("h3", { class: "panel-subtitle" }, "Pending invitations"), this.list);
  }

  get path() {
    return `/boards/${this.state.board.id}/invitations`;
  }

  /** Invite an email that has no account yet; shows the link to copy. */
  async create(email, role) {
    const invitation = await api("POST", this.path, { body: { email, role } });
    const input = h("input", { class: "input", readonly: true, value: invitation.link, "aria-label": "Invitation link",
                               "data-testid": "invite-link-input" });
    const copy = h("button", { type: "button", class: "btn btn-primary btn-small" }, "Copy link");
    copy.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(invitation.link);
        copy.textContent = "Copied";
      } catch {
        toast("Select the link and copy it with Ctrl+C.");
      }
    });
    this.linkBox.replaceChildren(
      h("p", { class: "small" }, `${invitation.email} has no account yet. Send them this link: it lets them sign up and join `,
        `as ${roleWithArticle(invitation.role)}, once, until ${new Date(invitation.expires_at).toLocaleDateString()}.`),
      h("div", { class: "invite-row" }, input, copy));
    this.linkBox.hidden = false;
    await this.load();
  }

  async load() {
    this.element.hidden = !this.state.canManageMembers;
    if (this.element.hidden) return;
    try {
      const { items } = await api("GET", this.path);
      this.render(items);
    } catch (error) {
      toast(`Couldn't load the invitations: ${error.message}`, "error");
    }
  }

  render(items) {
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "muted small" }, "None."));
      return;
    }
    this.list.replaceChildren(...items.map((item) => {
      const revoke = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Revoke the invitation of ${item.email}` },
        "Revoke");
      revoke.addEventListener("click", () => confirmInPlace(revoke, () => this.revoke(item)));
      const when = item.status === "expired" ? "expired" : `expires ${timeAgo(item.expires_at)}`;
      return h("li", { class: "member invitation", "data-testid": "invitation" },
        h("div", { class: "member-who" }, h("span", { class: "member-name" }, item.email),
          h("span", { class: "member-email" }, `${roleWithArticle(item.role)} · ${when}`)),
        h("div", { class: "member-controls" }, revoke));
    }));
  }

  async revoke(item) {
    try {
      await api("DELETE", `${this.path}/${item.id}`);
      this.linkBox.hidden = true;
      await this.load();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  receive(message) {
    const { event, data } = message;
    if (event === "invitation.created" || event === "invitation.revoked" || (event === "member.added" && data.invitation_id)) {
      this.load();
    }
  }
}
