// The REST client: JSON in and out, the access token attached, one retry after a silent
// refresh on 401, and the contract's error shape turned into ApiError.

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// Set by main.js to the session module, which owns the tokens (kept out of this module so
// that the session can call the API without a cycle).
let auth = { token: async () => null, refresh: async () => false };

export function configureAuth(provider) {
  auth = provider;
}

// Requests under way, so that signing out lets them finish first: one the server reads
// after the session is revoked would be refused with a 401 and sent on to a failed refresh.
const underway = new Set();

/** Resolves once the requests under way have been answered, or after `limitMs`. */
export function requestsSettled(limitMs = 3000) {
  let timer;
  const limit = new Promise((resolve) => { timer = setTimeout(resolve, limitMs); });
  return Promise.race([Promise.allSettled([...underway]), limit]).finally(() => clearTimeout(timer));
}

/** One HTTP call, no auth logic; resolves to {status, data} for any HTTP status. */
export async function rawRequest(method, path, { body, headers = {}, token = null } = {}) {
  // Chromium logs every failed fetch as a console error; not asking while the browser
  // knows it is offline keeps the console clean and the message useful.
  if (!navigator.onLine) throw new ApiError(0, "offline", "You are offline. Changes will sync when you reconnect.");
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body instanceof Blob) init.body = body; // raw bytes (an import's file parts), Content-Type from headers
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  let text;
  const answered = fetch(BASE + path, init).then(async (r) => { response = r; text = await r.text(); });
  underway.add(answered);
  try {
    await answered;
  } catch {
    throw new ApiError(0, "network", "Can't reach Taskwire. Check your connection and try again.");
  } finally {
    underway.delete(answered);
  }
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  return { status: response.status, data };
}

function errorFrom(status, data) {
  const error = data?.error || {};
  const message = error.message || `The server answered ${status}.`;
  return new ApiError(status, error.code || "http_error", message, data);
}

// Set by offline/outbox.js: reads answered from the local copy and changes queued while
// offline; it calls `onlineApi` for what goes to the server.
let router = null;

export function routeThrough(handler) {
  router = handler;
}

/** An authenticated call; throws ApiError for any status >= 400. */
export function api(method, path, options = {}) {
  return router ? router(method, path, options) : onlineApi(method, path, options);
}

/** `api` straight to the server. */
export async function onlineApi(method, path, { body, headers, query } = {}) {
  const url = query ? `${path}?${new URLSearchParams(clean(query))}` : path;
  let token = await auth.token();
  let result = await rawRequest(method, url, { body, headers, token });
  if (result.status === 401 && (await auth.refresh())) {
    token = await auth.token();
    result = await rawRequest(method, url, { body, headers, token });
  }
  if (result.status >= 400) throw errorFrom(result.status, result.data);
  return result.data;
}

/** An authenticated request whose body or answer is not JSON (a file upload, a download):
 * the Response, after one retry following a silent refresh on 401; ApiError for >= 400. */
export async function fetchWithAuth(path, init = {}) {
  const attempt = async () => {
    const token = await auth.token();
    try {
      return await fetch(BASE + path, { ...init, credentials: "same-origin",
                                        headers: { ...init.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    } catch {
      throw new ApiError(0, "network", "Can't reach Taskwire. Check your connection and try again.");
    }
  };
  let response = await attempt();
  if (response.status === 401 && (await auth.refresh())) response = await attempt();
  if (response.ok) return response;
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  throw errorFrom(response.status, data);
}

function clean(query) {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined && value !== null && value !== ""));
}

/** Every page of a cursor-paginated list (boards, tasks), up to `max` items. */
export async function listAll(path, query = {}, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", path, { query: { ...query, limit: 200, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

