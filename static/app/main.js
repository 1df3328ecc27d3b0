// Entry point: restore the session, then route. Each view mounts into <main> and returns
// an unmount function that releases its timers, sockets and listeners.

import { configureAuth } from "./api.js";
import { h, clear } from "./dom.js";
import { currentRoute, navigate, startRouter } from "./router.js";
import * as session from "./session.js";
import { mountAuthView } from "./auth-view.js";
import { mountBoardsView } from "./boards-view.js";
import { mountBoardView } from "./board/view.js";

configureAuth({ token: session.getAccessToken, refresh: session.refresh });

const main = document.getElementById("main");
const accountNav = document.getElementById("account-nav");
let unmount = null;
let firstRender = true;

function renderAccount(user) {
  clear(accountNav);
  if (!user) return;
  const signOut = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "sign-out" }, "Sign out");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    await session.signOut();
    navigate("/signin");
  });
  accountNav.append(h("span", { class: "account-name", title: user.email }, user.name), signOut);
}

function render(route) {
  if (unmount) unmount();
  unmount = null;
  clear(main);
  const user = session.currentUser();
  renderAccount(user);
  if (!user) {
    // Unauthenticated visitors to a board link sign in in place and then land on it.
    const mode = route.name === "signup" ? "signup" : "signin";
    // Signing in changes the session, whose listener below renders the route again.
    unmount = mountAuthView(main, mode);
  } else if (route.name === "signin" || route.name === "signup") {
    navigate("/", { replace: true });
    return;
  } else if (route.name === "board") {
    unmount = mountBoardView(main, route.params.boardId);
  } else if (route.name === "boards") {
    unmount = mountBoardsView(main);
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
