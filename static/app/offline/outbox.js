// Offline editing (docs/offline.md). Every API call of the app passes through here:
// - reads are answered by the server and kept in IndexedDB; offline, the kept answer is
//   given instead, so boards opened before open again with no network;
// - changes to tasks and comments made offline (or while earlier ones still wait) are
//   applied to the page at once from a prediction, and queued with an Idempotency-Key, a
//   client mutation id and the version they were based on. Back online the queue is sent
//   in order; a POST whose answer was lost is answered again by the server's idempotency
//   rather than done twice; a 409 is handed to the board, which opens its merge dialog.

import { ApiError, onlineApi, routeThrough } from "../api.js";
import { currentUser } from "../session.js";
import { deleteEverything, outboxAdd, outboxAll, outboxDelete, readResponse, writeResponse } from "./db.js";

const RETRY_MS = 5000;
const QUEUED = [
  // [method, path pattern, kind]
  ["POST", /^\/boards\/([^/?]+)\/tasks$/, "create"],
  ["PATCH", /^\/tasks\/([^/?]+)$/, "edit"],
  ["POST", /^\/tasks\/([^/?]+)\/move$/, "move"],
  ["DELETE", /^\/tasks\/([^/?]+)$/, "delete"],
  ["POST", /^\/tasks\/([^/?]+)\/comments$/, "comment"],
];

const tasks = new Map(); // id -> the newest task the app saw or predicted
const listeners = new Set();
let pending = []; // the outbox of the signed-in user, in order
let syncing = false;
let retryTimer = null;
const ids = new Map(); // offline id -> the server's id, once its create was sent

function notify(event) {
  for (const listener of listeners) listener(event);
}

/** `listener({type, ...})`: "queue" (the count changed), "synced", "conflict", "failed",
 * "replaced" (a task created offline got its real id). Returns `stop()`. */
export function onOutbox(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function status() {
  return { waiting: pending.length, syncing };
}

/** The ops waiting for one board, oldest first. */
export function waitingFor(boardId) {
  return pending.filter((op) => op.boardId === boardId);
}

const offlineError = () => new ApiError(0, "offline", "You are offline, and this is not available offline.");
const isNetwork = (error) => error instanceof ApiError && (error.status === 0);
const userKey = (path, query) => `${currentUser()?.id} ${path}?${new URLSearchParams(query || {})}`;

function remember(data) {
  for (const item of Array.isArray(data?.items) ? data.items : [data]) {
    if (item && typeof item === "object" && item.board_id && item.version !== undefined && item.status !== undefined) {
      const known = tasks.get(item.id);
      if (!known || known.version <= item.version) tasks.set(item.id, item);
    }
  }
}

async function route(method, path, options) {
  if (method === "GET") return read(path, options);
  const match = QUEUED.map(([verb, pattern, kind]) => verb === method && pattern.exec(path) && [kind, pattern.exec(path)[1]]).find(Boolean);
  if (!match) return onlineApi(method, path, options);
  const [kind, id] = match;
  // Made once: if the answer is lost on the way, the queued retry is the same request.
  const headers = { "Idempotency-Key": crypto.randomUUID(), "X-Client-Mutation-Id": crypto.randomUUID(), ...options.headers };
  // Behind changes still waiting, a new one waits too: the server must see them in order.
  if (navigator.onLine && !pending.length) {
    try {
      const result = await onlineApi(method, path, { ...options, headers });
      remember(result);
      return result;
    } catch (error) {
      if (!isNetwork(error)) throw error;
    }
  }
  return enqueue(kind, id, method, path, { ...options, headers });
}

async function read(path, options) {
  const key = userKey(path, options.query);
  try {
    const data = await onlineApi("GET", path, options);
    remember(data);
    writeResponse(key, data).catch(() => {});
    return data;
  } catch (error) {
    if (!isNetwork(error)) throw error;
    const kept = await readResponse(key).catch(() => undefined);
    if (kept === undefined) throw offlineError();
    remember(kept);
    return kept;
  }
}

/** What the server will most likely answer, so the page can show the change at once. */
function predict(kind, id, body) {
  const now = new Date().toISOString().replace("Z", "000Z");
  const me = currentUser();
  if (kind === "create") {
    return { id: `offline-${crypto.randomUUID()}`, board_id: id, description: "", priority: "medium", assignees: [], labels: [],
             due_at: null, position: `~${Date.now()}`, created_by: me.id, created_at: now, updated_at: now, version: 1, ...body };
  }
  if (kind === "comment") {
    return { id: `offline-${crypto.randomUUID()}`, task_id: id, author_id: me.id, body: body.body, mentions: [], created_at: now, updated_at: now };
  }
  const base = tasks.get(id);
  if (!base) return null;
  if (kind === "delete") return null;
  if (kind === "move") {
    const above = tasks.get(body.before);
    const below = tasks.get(body.after);
    // Fractional positions: a key extended is just after it; "!" sorts before any real key.
    const position = above ? `${above.position}V` : below ? `!${below.position}` : `~${Date.now()}`;
    return { ...base, status: body.status, position, version: base.version + 1, updated_at: now };
  }
  const { version, ...changes } = body;
  return { ...base, ...changes, version: base.version + 1, updated_at: now };
}

async function enqueue(kind, id, method, path, options) {
  const body = options.body || {};
  const base = tasks.get(id);
  if (kind !== "create" && kind !== "comment" && !base) throw offlineError();
  const result = predict(kind, id, body);
  const op = {
    user: currentUser().id, kind, method, path, body,
    boardId: kind === "create" ? id : kind === "comment" ? tasks.get(id)?.board_id : base.board_id,
    taskId: kind === "create" ? result.id : id,
    base: base || null, result,
    headers: options.headers,
    at: Date.now(),
  };
  op.seq = await outboxAdd(op);
  pending.push(op);
  if (kind === "delete") tasks.delete(id);
  else if (kind !== "comment") tasks.set(result.id, result);
  notify({ type: "queue" });
  if (navigator.onLine) sync();
  return result;
}

/** Send what waits, in order. Stops at the first network failure and tries again later. */
export async function sync() {
  if (syncing || !pending.length || !navigator.onLine) return;
  syncing = true;
  clearTimeout(retryTimer);
  notify({ type: "queue" });
  const real = (text) => [...ids].reduce((value, [temp, id]) => value.replaceAll(temp, id), text);
  try {
    while (pending.length && navigator.onLine) {
      const op = pending[0];
      const body = JSON.parse(real(JSON.stringify(op.body)));
      try {
        const result = await onlineApi(op.method, real(op.path), { body, headers: op.headers });
        remember(result);
        if (op.kind === "create") {
          ids.set(op.result.id, result.id);
          notify({ type: "replaced", op, task: result });
        }
      } catch (error) {
        if (isNetwork(error) || error.status >= 500 || error.status === 429 || error.status === 401) {
          retryTimer = setTimeout(sync, RETRY_MS);
          return;
        }
        const deletedAlready = op.kind === "delete" && error.status === 404; // its answer was lost
        if (error.status === 409 && error.body?.current) handleConflict(op, error.body.current);
        else if (!deletedAlready) notify({ type: "failed", op, error });
      }
      await outboxDelete(op.seq);
      pending.shift();
      notify({ type: "queue" });
    }
  } finally {
    syncing = false;
    notify({ type: "queue" });
    if (!pending.length) notify({ type: "synced" });
  }
}

/** The task fields `op` sets. A move's body also names its neighbours, which are no task
 * fields: what it sets is the column. */
function fieldsSet(op) {
  const { version, ...fields } = op.body;
  return op.kind === "move" ? { status: fields.status } : fields;
}

function handleConflict(op, current) {
  remember(current);
  const mine = fieldsSet(op);
  // Our change already made it (its answer was lost before the version moved on): done.
  if (Object.entries(mine).every(([field, value]) => JSON.stringify(current[field]) === JSON.stringify(value))) return;
  notify({ type: "conflict", op, current, mine });
}

/** At sign-in (and page load): this user's queue, then send it if we can. */
export async function startOutbox() {
  const user = currentUser();
  pending = user ? (await outboxAll().catch(() => [])).filter((op) => op.user === user.id) : [];
  for (const op of pending) if (op.result && op.kind !== "comment") tasks.set(op.result.id, op.result);
  notify({ type: "queue" });
  sync();
}

/** Sign-out: the queue and every kept answer go. */
export async function clearLocalData() {
  pending = [];
  tasks.clear();
  notify({ type: "queue" });
  await deleteEverything();
}

routeThrough(route);
window.addEventListener("online", () => sync());
