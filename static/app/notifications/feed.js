// Your notifications in memory: kept by id (REST pages and live messages overlap, and a
// notification can arrive both ways), newest first, with the unread count and the cursor of
// the next older page. No DOM and no requests here; the bell does those.

/** Ids are time-ordered (docs/integrations.md): a larger id is a newer notification. */
function newestFirst(a, b) {
  if (a.id === b.id) return 0;
  return a.id > b.id ? -1 : 1;
}

export class NotificationFeed {
  constructor() {
    this.byId = new Map();
    this.unread = 0;
    this.nextCursor = null; // of the page after the oldest one loaded; null: no more
    this.loaded = false; // a first page has arrived
    this.liveArrivals = 0; // how many live ones were added: a count answered meanwhile is stale
  }

  get items() {
    return [...this.byId.values()].sort(newestFirst);
  }

  get newestId() {
    return this.items[0]?.id || null;
  }

  /** The first page (on load, on every reconnect, on `notifications.refetch`). When it is
   * the whole list, or does not reach what is held (more arrived meanwhile than a page
   * holds), it replaces what is held, so no hole is shown; otherwise it is merged and the
   * older pages loaded with "Load more" stay. */
  adoptFirstPage(page) {
    // One sent live after the page was read is newer than all of it: it stays, and counts.
    const newest = page.items[0]?.id || "";
    const reaches = page.items.some((item) => this.byId.has(item.id));
    if (!this.loaded || !page.next_cursor || !reaches) {
      for (const id of [...this.byId.keys()]) if (id <= newest) this.byId.delete(id);
      this.nextCursor = page.next_cursor;
    }
    const later = this.items.filter((item) => item.id > newest && !item.read_at).length;
    for (const item of page.items) this.byId.set(item.id, item);
    this.unread = page.unread_count + later;
    this.loaded = true;
  }

  /** "Load more": older ones. The count stays the first page's and the live messages'. */
  adoptOlderPage(page) {
    for (const item of page.items) if (!this.byId.has(item.id)) this.byId.set(item.id, item);
    this.nextCursor = page.next_cursor;
  }

  /** The count as the server answered a mark-read. */
  setUnread(count) {
    this.unread = count;
  }

  /** A live notification; false when it was already held (sent live and fetched too). */
  add(notification) {
    if (this.byId.has(notification.id)) return false;
    this.byId.set(notification.id, notification);
    if (!notification.read_at) this.unread += 1;
    this.liveArrivals += 1;
    return true;
  }

  /** Mark read locally, ahead of the server's answer; the ids that were unread. */
  markRead(ids, at = new Date().toISOString()) {
    const changed = [];
    for (const id of ids) {
      const item = this.byId.get(id);
      if (!item || item.read_at) continue;
      this.byId.set(id, { ...item, read_at: at });
      changed.push(id);
    }
    this.unread = Math.max(0, this.unread - changed.length);
    return changed;
  }

  /** Every held one up to `upToId` (the newest shown), as "Mark all read" does. */
  markAllRead(upToId) {
    return this.markRead(this.items.filter((item) => item.id <= upToId).map((item) => item.id));
  }
}
