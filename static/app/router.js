// Client-side routes over the History API. The server answers every one of these paths
// with the same shell (app/api/pages.py), so links and reloads land in the right view.

const ROUTES = [
  { name: "boards", pattern: /^\/$/ },
  { name: "analytics", pattern: /^\/boards\/([A-Za-z0-9_-]+)\/analytics\/?$/, keys: ["boardId"] },
  { name: "board", pattern: /^\/boards\/([A-Za-z0-9_-]+)\/?$/, keys: ["boardId"] },
  { name: "signin", pattern: /^\/signin\/?$/ },
  { name: "signup", pattern: /^\/signup\/?$/ },
  { name: "account", pattern: /^\/account\/?$/ },
  { name: "preferences", pattern: /^\/preferences\/?$/ },
  { name: "forgot-password", pattern: /^\/forgot-password\/?$/ },
  { name: "reset-password", pattern: /^\/reset-password\/?$/ },
  { name: "verify-email", pattern: /^\/verify-email\/?$/ },
  { name: "invite", pattern: /^\/invite\/?$/ },
];

let onRoute = () => {};

export function currentRoute() {
  const { pathname, search } = window.location;
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (match) {
      const params = Object.fromEntries((route.keys || []).map((key, index) => [key, match[index + 1]]));
      return { name: route.name, params, query: new URLSearchParams(search) };
    }
  }
  return { name: "missing", params: {}, query: new URLSearchParams(search) };
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  onRoute(currentRoute());
}

/** Change only the query string (filters), without a new history entry or a re-route. */
export function replaceQuery(params) {
  const query = params.toString();
  const url = window.location.pathname + (query ? `?${query}` : "");
  if (url !== window.location.pathname + window.location.search) history.replaceState(null, "", url);
}

export function startRouter(handler) {
  onRoute = handler;
  window.addEventListener("popstate", () => onRoute(currentRoute()));
  // Same-origin links marked data-link are routed here instead of reloading the page.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-link]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(link.getAttribute("href"));
  });
  onRoute(currentRoute());
}
