// The signed-in session. The access token lives in this module's memory only; the refresh
// token lives in an HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth that script
// never sees (docs/dashboard.md says why). A reload restores the session through that cookie.

import { ApiError, rawRequest, requestsSettled } from "./api.js";

const COOKIE_MODE = { "X-Taskwire-Session": "cookie" };
// Not a secret: only "a refresh cookie probably exists", so that a visitor who never signed
// in is not sent to /auth/refresh for a certain 401 on every page load.
const HINT_KEY = "taskwire.signed-in";
const EARLY_REFRESH_MS = 15_000;
// Who is signed in, so that the dashboard opens offline (docs/offline.md); gone at sign-out.
const USER_KEY = "taskwire.user";

let user = null;
let accessToken = null;
let expiresAt = 0;
let refreshTimer = null;
let inflight = null;
const listeners = new Set();

export function currentUser() {
  return user;
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify() {
  for (const listener of listeners) listener(user);
}

function adopt(body) {
  const wasSignedIn = Boolean(user);
  user = body.user;
  accessToken = body.access_token;
  expiresAt = Date.now() + body.expires_in * 1000;
  localStorage.setItem(HINT_KEY, "1");
  localStorage.setItem(USER_KEY, JSON.stringify(body.user));
  scheduleRefresh(body.expires_in);
  if (!wasSignedIn) notify();
}

function forget() {
  const wasSignedIn = Boolean(user);
  user = null;
  accessToken = null;
  expiresAt = 0;
  clearTimeout(refreshTimer);
  localStorage.removeItem(HINT_KEY);
  localStorage.removeItem(USER_KEY);
  if (wasSignedIn) notify();
}

/** Refresh a minute before expiry (or at 80% of a short lifetime). */
function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer);
  const seconds = Math.max(1, Math.min(expiresIn - 60, expiresIn * 0.8));
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, seconds * 1000);
}

/** Trade the cookie for a new pair; single-flight within a tab, and serialised across
 * tabs with a Web Lock: two tabs presenting the same refresh token would look like token
 * theft to the server, which then revokes the whole session. */
export function refresh() {
  if (!inflight) {
    const run = () => exchangeCookie();
    const locked = navigator.locks ? navigator.locks.request("taskwire-refresh", run) : run();
    inflight = locked.finally(() => { inflight = null; });
  }
  return inflight;
}

async function exchangeCookie() {
  let result;
  try {
    result = await rawRequest("POST", "/auth/refresh", { body: {}, headers: COOKIE_MODE });
  } catch (error) {
    // Offline or unreachable: keep the session and try again soon.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, 10_000);
    if (error instanceof ApiError) return false;
    throw error;
  }
  if (result.status === 200) {
    adopt(result.data);
    return true;
  }
  forget();
  return false;
}

/** A valid access token, refreshed first when it is about to expire; null when signed out. */
export async function getAccessToken() {
  // Opened offline: the session is the cookie's, exchanged once the network is back.
  if (!accessToken && user && navigator.onLine) await refresh();
  if (accessToken && Date.now() > expiresAt - EARLY_REFRESH_MS) await refresh();
  return accessToken;
}

/** On page load: restore the session from the cookie if there probably is one. */
export async function restoreSession() {
  // Single sign-on lands here with its refresh cookie set and ?signed_in=sso.
  const params = new URLSearchParams(window.location.search);
  const fromSignOn = params.get("signed_in") === "sso";
  if (fromSignOn) {
    params.delete("signed_in");
    history.replaceState(null, "", window.location.pathname + (params.size ? `?${params}` : ""));
  } else if (!localStorage.getItem(HINT_KEY)) return null;
  if (!fromSignOn && !navigator.onLine && localStorage.getItem(USER_KEY)) {
    user = JSON.parse(localStorage.getItem(USER_KEY));
    return user;
  }
  await refresh();
  return user;
}

async function start(path, body) {
  const result = await rawRequest("POST", path, { body, headers: COOKIE_MODE });
  if (result.status >= 400) {
    const error = result.data?.error || {};
    throw new ApiError(result.status, error.code || "http_error", error.message || "Something went wrong.", result.data);
  }
  adopt(result.data);
  return user;
}

/** `code`: the authenticator's code or a recovery code, once the server asked for one
 * (ApiError code "two_factor_required"). */
export function signIn(email, password, code = undefined) {
  return start("/auth/login", code ? { email, password, code } : { email, password });
}

/** `invitationToken`: the invitation being followed, which lets its invited email sign up
 * while registration is closed. */
export function signUp(name, email, password, invitationToken = undefined) {
  const body = { name, email, password };
  return start("/auth/register", invitationToken ? { ...body, invitation_token: invitationToken } : body);
}

/** The server already ended the session (the account was deleted): forget it here too. */
export function ended() {
  forget();
}

export async function signOut() {
  await requestsSettled();
  try {
    // The access token lets the server end this session's access tokens at once too.
    await rawRequest("POST", "/auth/logout", { body: {}, headers: COOKIE_MODE, token: accessToken });
  } finally {
    forget();
  }
}

// Signing out in one tab signs out the others.
window.addEventListener("storage", (event) => {
  if (event.key === HINT_KEY && event.newValue === null && user) forget();
});
