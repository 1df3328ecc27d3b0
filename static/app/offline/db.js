// The dashboard's local store (IndexedDB, docs/offline.md): the API answers the app last
// read, to open boards with no network, and the outbox of changes waiting to be sent.
// Everything is scoped to the signed-in user and deleted on sign-out.

const NAME = "taskwire-offline";
const VERSION = 1;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => {
        request.result.createObjectStore("responses");
        request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = () => {
        // Another tab deleting the database (its sign-out) must not wait on us.
        request.result.onversionchange = () => { request.result.close(); opening = null; };
        resolve(request.result);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

async function run(store, mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = action(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const readResponse = (key) => run("responses", "readonly", (store) => store.get(key));
export const writeResponse = (key, value) => run("responses", "readwrite", (store) => store.put(value, key));
export const outboxAll = () => run("outbox", "readonly", (store) => store.getAll());
export const outboxAdd = (op) => run("outbox", "readwrite", (store) => store.add(op));
export const outboxPut = (op) => run("outbox", "readwrite", (store) => store.put(op));
export const outboxDelete = (seq) => run("outbox", "readwrite", (store) => store.delete(seq));

/** Sign-out: nothing of this user stays on the device. */
export async function deleteEverything() {
  if (opening) (await opening.catch(() => null))?.close();
  opening = null;
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
