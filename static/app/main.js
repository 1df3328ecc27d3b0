// Entry point: restore the session, then route. Each view mounts into <main> and returns
// an unmount function that releases its timers and listeners. What lasts for the whole
// sign-in (the WebSocket, the notifications bell) lives in `account`, across views.

import { configureAuth } from "./api.js";
import { h, clear } from "./dom.js";
import { LiveClient } from "./live.js";
import { NotificationBell } from "./notifications/bell.js";
import { currentRoute, navigate, startRouter } from "./router.js";
import * as session from "./session.js";
import { themeToggle } from "./theme.js";
import { mountAccountView } from "./account-view.js";
import { mountAuthView } from "./auth-view.js";
import { mountBoardsView } from "./boards-view.js";
import { mountBoardView } from "./board/view.js";
import { mountForgotPassword, mountResetPassword, mountVerifyEmail } from "./preferences/account.js";
import { mountPreferencesView } from "./preferences/view.js";
import { mountAnalyticsView } from "./analytics/view.js";
import { installServiceWorker } from "./offline/updates.js";
import { clearLocalData, startOutbox } from "./offline/outbox.js";
import { syncIndicator } from "./offline/indicator.js";
import { mountInviteView, pendingInvitation } from "./invite-view.js";

configureAuth({ token: session.getAccessToken, refresh: session.refresh });
installServiceWorker();

const main = document.getElementById("main");
const accountNav = document.getElementById("account-nav");
accountNav.before(themeToggle());
let unmount = null;
let firstRender = true;
let account = null; // {user, live, bell} while signed in

/** Open the socket and the bell on sign-in; close them on sign-out (or another user). */
function syncAccount(user) {
  if (account && account.user.id === user?.id) return;
  if (account) {
    account.sync.destroy();
    account.bell.destroy();
    account.live.stop();
    account = null;
  }
  clear(accountNav);
  if (!user) return;
  const live = new LiveClient();
  const bell = new NotificationBell({ live });
  const sync = syncIndicator();
  account = { user, live, bell, sync };
  live.start();
  startOutbox();
  const signOut = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "sign-out" }, "Sign out");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    // The socket goes first: the server ends it with the session, and a reconnect racing
    // the revocation would subscribe and then fetch with a token about to be refused.
    live.stop();
    await session.signOut();
    await clearLocalData(); // nothing of this account stays on the device
    navigate("/signin");
  });
  const name = h("a", { class: "account-name", href: "/account", "data-link": true, title: `${user.email}: your account`,
                       "data-testid": "account-link" }, user.name);
  const preferences = h("a", { href: "/preferences", "data-link": true, class: "btn btn-ghost btn-small",
                               "data-testid": "preferences-link" }, "Preferences");
  accountNav.append(sync, bell.element, name, preferences, signOut);
}

function render(route) {
  if (unmount) unmount();
  unmount = null;
  clear(main);
  const user = session.currentUser();
  syncAccount(user);
  const token = route.query.get("token") || "";
  if (route.name === "invite") {
    unmount = mountInviteView(main, user);
  } else if (user && pendingInvitation() && (route.name === "signin" || route.name === "signup")) {
    // Signed in while following an invitation link: back to it, to join.
    navigate("/invite", { replace: true });
    return;
  } else if (route.name === "forgot-password") {
    unmount = mountForgotPassword(main);
  } else if (route.name === "reset-password") {
    unmount = mountResetPassword(main, token);
  } else if (route.name === "verify-email") {
    unmount = mountVerifyEmail(main, token);
  } else if (!user) {
    // Unauthenticated visitors to a board link sign in in place and then land on it.
    const mode = route.name === "signup" ? "signup" : "signin";
    // Signing in changes the session, whose listener below renders the route again.
    unmount = mountAuthView(main, mode);
  } else if (route.name === "signin" || route.name === "signup") {
    navigate("/", { replace: true });
    return;
  } else if (route.name === "board") {
    unmount = mountBoardView(main, route.params.boardId, account.live);
  } else if (route.name === "account") {
    unmount = mountAccountView(main);
  } else if (route.name === "preferences") {
    unmount = mountPreferencesView(main);
  } else if (route.name === "analytics") {
    unmount = mountAnalyticsView(main, route.params.boardId, account.live, route.query);
  } else if (route.name === "boards") {
    unmount = mountBoardsView(main, account.live);
  } else {
    document.title = "Not found · Taskwire";
    main.append(h("section", { class: "empty-state" }, h("h1", {}, "Page not found"),
      h("p", {}, h("a", { href: "/", "data-link": true }, "Back to your boards"))));
  }
  // Move focus to the new view for keyboard and screen-reader users (not on first load).
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
}

session.onSessionChange(() => render(currentRoute()));

(async () => {
  await session.restoreSession().catch(() => null);
  startRouter(render);
})();
