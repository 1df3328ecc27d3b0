// Taskwire's service worker (served by app/api/installable.py; docs/offline.md). It keeps
// one version of the app shell and the dashboard's static modules in one cache, so the
// dashboard opens with no network. Data is not cached here: the app keeps boards in
// IndexedDB and the API is always asked over the network.
//
// Versions: a new worker fills its own cache, then takes over at once and deletes the old
// caches. An open page keeps running the modules it started with (the dashboard imports
// them all at start-up, none later) and is told a new version is ready; the next load runs
// the new version and says so (static/app/offline/updates.js).

const VERSION = {{ version|tojson }};
const LABEL = {{ label|tojson }};
const PRECACHE = {{ precache|tojson }};
const CACHE = `taskwire-${VERSION}`;
const SHELL = "/";
// The dashboard's own pages (app/api/pages.py): all the same shell.
// Every path APP_PATHS (app/api/pages.py) serves the shell on.
const SHELL_PATHS = [/^\/$/, /^\/signin\/?$/, /^\/signup\/?$/, /^\/invite\/?$/, /^\/account\/?$/, /^\/preferences\/?$/,
  /^\/forgot-password\/?$/, /^\/reset-password\/?$/, /^\/verify-email\/?$/, /^\/boards\/[A-Za-z0-9_-]+(\/analytics)?\/?$/];

self.addEventListener("install", (event) => {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith("taskwire-") && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "version") event.source?.postMessage({ type: "version", version: LABEL });
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && SHELL_PATHS.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(fromCache(SHELL, request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    // The cache holds exactly this version's files, so the ?v= fingerprint adds nothing.
    event.respondWith(fromCache(request, request, { ignoreSearch: true }));
  }
});

async function fromCache(key, request, options = {}) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key, options)) || fetch(request);
}
