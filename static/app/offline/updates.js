// Registers the service worker (templates/sw.js) and tells people about its versions. A
// release found while the app is open installs in the background and takes over the cache;
// the open page keeps running the modules it started with and says a new version is ready.
// The next load runs the new version and says which one it is.

import { toast } from "../toast.js";

const VERSION_KEY = "taskwire.version";

export async function installServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const container = navigator.serviceWorker;
  const startedControlled = Boolean(container.controller);
  container.addEventListener("controllerchange", () => {
    if (!startedControlled) return; // the first install: nothing was running before
    document.documentElement.dataset.update = "ready";
    toast("A new version of Taskwire is ready. It will be used the next time you open or reload Taskwire.");
  });
  showVersion(container);
  try {
    await container.register("/sw.js", { scope: "/", updateViaCache: "none" });
  } catch {
    // Offline at the first visit, or a browser without workers: the app works without.
  }
}

/** `<html data-version>` names the version serving this page; a different one than last
 * time is announced. */
async function showVersion(container) {
  await container.ready;
  // The first visit: the worker claims this page once it has activated.
  if (!container.controller) await new Promise((resolve) => container.addEventListener("controllerchange", resolve, { once: true }));
  const worker = container.controller;
  const hear = (event) => {
    if (event.data?.type !== "version") return;
    container.removeEventListener("message", hear);
    const { version } = event.data;
    document.documentElement.dataset.version = version;
    const previous = localStorage.getItem(VERSION_KEY);
    localStorage.setItem(VERSION_KEY, version);
    if (previous && previous !== version) toast(`Taskwire was updated to version ${version}.`);
  };
  container.addEventListener("message", hear);
  worker.postMessage({ type: "version" });
}
