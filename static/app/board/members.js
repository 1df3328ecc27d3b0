// Members panel: who is on the board and their roles. Invite, change role and remove are
// shown only as my role allows (the server checks again; this only avoids dead buttons).

import { api } from "../api.js";
import { avatar, confirmInPlace, h, uid } from "../dom.js";
import { toast } from "../toast.js";
import { Invitations } from "./invitations.js";

export const ROLE_TEXT = { owner: "Owner", admin: "Admin", editor: "Editor", commenter: "Commenter", viewer: "Viewer" };

export class MembersPanel {
  constructor({ state, onChanged, onLeft }) {
    this.state = state;
    this.onChanged = onChanged;
    this.onLeft = onLeft;
    this.list = h("ul", { class: "member-list", "data-testid": "members" });
    this.inviteHost = h("div");
    this.invitations = new Invitations({ state });
    this.element = h("div", { class: "panel-body" }, this.list, this.inviteHost, this.invitations.element);
  }

  get boardPath() {
    return `/boards/${this.state.board.id}/members`;
  }

  render() {
    const members = [...this.state.members.values()].sort(
      (a, b) => (a.user_id === this.state.me.id ? -1 : b.user_id === this.state.me.id ? 1 : a.name.localeCompare(b.name)));
    this.list.replaceChildren(...members.map((member) => this.row(member)));
    this.inviteHost.replaceChildren(this.state.canManageMembers ? this.inviteForm() : h("p", { class: "muted small" },
      "Only admins and owners can invite people."));
    this.invitations.load();
  }

  row(member) {
    const me = member.user_id === this.state.me.id;
    const who = h("div", { class: "member-who" },
      h("span", { class: "member-name" }, member.name, me ? h("span", { class: "muted" }, " (you)") : null),
      h("span", { class: "member-email" }, member.email));
    let control;
    if (this.state.mayManage(member)) {
      const id = uid("role");
      const roles = this.state.grantableRoles();
      if (!roles.includes(member.role)) roles.push(member.role);
      const select = h("select", { class: "input input-compact", id, "data-testid": "member-role" },
        roles.map((role) => h("option", { value: role, selected: role === member.role }, ROLE_TEXT[role])));
      select.addEventListener("change", () => this.changeRole(member, select));
      const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Remove ${member.name}` },
        "Remove");
      remove.addEventListener("click", () => confirmInPlace(remove, () => this.remove(member)));
      control = h("div", { class: "member-controls" },
        h("label", { class: "visually-hidden", for: id }, `Role for ${member.name}`), select, remove);
    } else {
      const leave = me ? h("button", { type: "button", class: "btn btn-ghost btn-small" }, "Leave") : null;
      if (leave) {
        const soleOwner = member.role === "owner" && [...this.state.members.values()].filter((m) => m.role === "owner").length < 2;
        leave.disabled = soleOwner;
        if (soleOwner) leave.title = "Make someone else an owner before leaving.";
        leave.addEventListener("click", () => confirmInPlace(leave, () => this.leave()));
      }
      control = h("div", { class: "member-controls" }, h("span", { class: `role-badge role-${member.role}` }, ROLE_TEXT[member.role]), leave);
    }
    return h("li", { class: "member", "data-user-id": member.user_id },
      avatar({ id: member.user_id, name: member.name }), who, control);
  }

  inviteForm() {
    const emailId = uid("invite-email");
    const roleId = uid("invite-role");
    const email = h("input", { class: "input", type: "email", id: emailId, required: true, autocomplete: "off",
                               placeholder: "name@example.com", "data-testid": "invite-email" });
    const role = h("select", { class: "input input-compact", id: roleId, "data-testid": "invite-role" },
      this.state.grantableRoles().map((r) => h("option", { value: r, selected: r === "editor" }, ROLE_TEXT[r])));
    const submit = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Invite");
    const form = h("form", { class: "invite-form", "aria-label": "Invite someone" },
      h("h3", { class: "panel-subtitle" }, "Invite by email"),
      h("div", { class: "invite-row" },
        h("label", { class: "visually-hidden", for: emailId }, "Email"), email,
        h("label", { class: "visually-hidden", for: roleId }, "Role"), role, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const member = await api("POST", this.boardPath, { body: { email: email.value.trim(), role: role.value } });
        this.state.members.set(member.user_id, member);
        toast(`${member.name} can now ${member.role === "viewer" ? "view" : "work on"} this board.`);
        this.onChanged();
      } catch (error) {
        submit.disabled = false;
        if (error.code !== "user_not_found") return toast(error.message, "error");
        // No account yet: an invitation link instead.
        try {
          await this.invitations.create(email.value.trim(), role.value);
          email.value = "";
        } catch (problem) {
          toast(problem.message, "error");
        }
      }
      return undefined;
    });
    return form;
  }

  receive(message) {
    this.invitations.receive(message);
  }

  async changeRole(member, select) {
    try {
      const updated = await api("PATCH", `${this.boardPath}/${member.user_id}`, { body: { role: select.value } });
      this.state.members.set(updated.user_id, updated);
      this.onChanged();
    } catch (error) {
      select.value = member.role;
      toast(error.message, "error");
    }
  }

  async remove(member) {
    try {
      await api("DELETE", `${this.boardPath}/${member.user_id}`);
      this.state.members.delete(member.user_id);
      this.onChanged();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async leave() {
    try {
      await api("DELETE", `${this.boardPath}/${this.state.me.id}`);
      this.onLeft();
    } catch (error) {
      toast(error.message, "error");
    }
  }
}
