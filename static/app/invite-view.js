// The page an invitation link opens (/invite#<token>): what the invitation is for, then
// sign up or sign in (the email prefilled) and join the board with the invited role.
// The token waits in sessionStorage while the visitor signs in or up, here or on /signin.

import { api, rawRequest } from "./api.js";
import { mountAuthView } from "./auth-view.js";
import { h, roleWithArticle } from "./dom.js";
import { navigate } from "./router.js";

const PENDING_KEY = "taskwire.invitation";
// Set while the visitor signs in or up to follow the link: once they have, they join at once.
const JOIN_KEY = "taskwire.invitation.join";

/** The token of an invitation being followed, if any. */
export function pendingInvitation() {
  return sessionStorage.getItem(PENDING_KEY);
}

export function mountInviteView(container, user) {
  document.title = "Invitation · Taskwire";
  const fromLink = window.location.hash.slice(1);
  if (fromLink) sessionStorage.setItem(PENDING_KEY, fromLink);
  const token = pendingInvitation();
  const card = h("section", { class: "auth-card invite-card", "aria-labelledby": "invite-title", "data-testid": "invite-page" },
    h("h1", { id: "invite-title" }, "You're invited"));
  container.append(card);
  let unmountAuth = () => {};
  const fail = (text) => {
    forget();
    card.append(h("p", { class: "form-error", role: "alert" }, text),
      h("p", {}, h("a", { href: "/", "data-link": true }, "Go to Taskwire")));
  };
  if (!token) {
    fail("This link has no invitation in it. Ask for a new one.");
    return () => {};
  }
  rawRequest("POST", "/invitations/lookup", { body: { token } }).then(({ status, data }) => {
    if (status !== 200) return fail(data?.error?.message || "This invitation can't be used.");
    const { invitation, board } = data;
    card.append(h("p", { class: "auth-lead" }, `${data.invited_by || "Someone"} invited ${invitation.email} to join `,
      h("strong", {}, board.name), ` as ${roleWithArticle(invitation.role)}.`));
    if (invitation.status !== "pending") return fail(`This invitation is ${invitation.status}; ask for a new one.`);
    if (user) {
      const join = joinButton(token, card);
      card.append(join);
      if (sessionStorage.getItem(JOIN_KEY)) join.click();
      return undefined;
    }
    sessionStorage.setItem(JOIN_KEY, "1");
    const host = h("div");
    card.append(host);
    const show = (mode) => {
      unmountAuth();
      host.replaceChildren();
      unmountAuth = mountAuthView(host, mode, { invitationToken: token });
      const email = host.querySelector("input[name=email]");
      if (email) email.value = invitation.email;
      // The view's own link goes to the other form here, not to another page.
      const other = host.querySelector(".auth-switch a");
      other?.removeAttribute("data-link");
      other?.addEventListener("click", (event) => {
        event.preventDefault();
        show(mode === "signup" ? "signin" : "signup");
      });
    };
    show("signup");
    return undefined;
  });
  return () => unmountAuth();
}

function forget() {
  sessionStorage.removeItem(PENDING_KEY);
  sessionStorage.removeItem(JOIN_KEY);
}

function joinButton(token, card) {
  const join = h("button", { type: "button", class: "btn btn-primary btn-block", "data-testid": "join-board" }, "Join the board");
  join.addEventListener("click", async () => {
    join.disabled = true;
    try {
      const { board } = await api("POST", "/invitations/accept", { body: { token } });
      forget();
      navigate(`/boards/${board.id}`, { replace: true });
    } catch (error) {
      forget();
      card.append(h("p", { class: "form-error", role: "alert" }, error.message));
    }
  });
  return join;
}
