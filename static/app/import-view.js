// Importing a board (POST /imports, PUT /imports/{id}/content in parts, GET /imports/{id}):
// choose a Trello or Planka export or a CSV file, check how it will map, then follow a progress bar
// to the report. See docs/import.md.

import { api } from "./api.js";
import { h, uid } from "./dom.js";

const PART_BYTES = 512 * 1024; // under the server's default request limit (1 MiB)
const PREVIEW_ROWS = 5;
const PREVIEW_BYTES = 64 * 1024;
const TRELLO_PREVIEW_MAX = 20 * 1024 * 1024; // a larger export is imported without a preview
const POLL_MS = 400;
const FIELDS = [["title", "Title"], ["description", "Description"], ["status", "Column"], ["labels", "Labels"],
                ["due_at", "Due date"], ["assignee", "Assignee (email)"], ["id", "Row id"]];
const GUESSES = { title: /^(title|name|summary|task)$/i, description: /^(description|notes?|details?|desc)$/i,
                  status: /^(status|stage|state|column|list)$/i, labels: /^(labels?|tags?)$/i,
                  due_at: /^(due|due.?date|deadline)$/i, assignee: /^(assignee|owner|email)$/i, id: /^(id|key)$/i };

/** RFC 4180 rows of `text` (quoted fields, doubled quotes, line breaks inside quotes). */
export function parseCsv(text, maxRows = Infinity) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if ((field || row.length) && rows.length < maxRows) { row.push(field); rows.push(row); }
  return rows;
}

function slug(name) {
  return name.trim().toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|[-_]+$/g, "").slice(0, 36) || "list";
}

export function importPanel({ onDone }) {
  const fileId = uid("import-file");
  const file = h("input", { type: "file", id: fileId, accept: ".json,.csv,application/json,text/csv", class: "input" });
  const preview = h("div", { class: "import-preview", "data-testid": "import-preview", hidden: true });
  const start = h("button", { type: "button", class: "btn btn-primary", hidden: true }, "Import");
  const progress = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Import progress",
                                   "data-testid": "import-progress" });
  const status = h("p", { class: "field-hint", role: "status", "data-testid": "import-status" });
  const element = h("details", { class: "import-panel", "data-testid": "import" },
    h("summary", { class: "field-label" }, "Import a board from Trello, Planka or a CSV file"),
    h("div", { class: "import-body" },
      h("label", { class: "field-hint", for: fileId }, "A Trello or Planka board export (.json) or a CSV file"),
      file, preview, start, progress, status));
  let chosen = null; // {file, source, header, selects}

  file.addEventListener("change", async () => {
    const picked = file.files[0];
    start.hidden = true;
    status.textContent = "";
    if (!picked) return;
    const head = await picked.slice(0, PREVIEW_BYTES).text();
    const json = !picked.name.toLowerCase().endsWith(".csv") && head.trimStart().startsWith("{");
    const source = !json ? "csv" : /^\s*\{\s*"(item|included)"/.test(head) ? "planka" : "trello";
    chosen = { file: picked, source };
    if (source === "csv") showCsv(head.replace(/^\ufeff/, ""));
    else await showTrello(picked);
    preview.hidden = false;
    start.hidden = false;
  });

  function showCsv(head) {
    const rows = parseCsv(head, PREVIEW_ROWS + 1);
    const header = rows[0] || [];
    const selects = {};
    const mapping = h("div", { class: "field-grid import-mapping" }, FIELDS.map(([field, label]) => {
      const id = uid("map");
      const guess = header.find((name) => GUESSES[field].test(name.trim())) || "";
      selects[field] = h("select", { class: "input", id, name: field },
        h("option", { value: "" }, "—"), header.map((name) => h("option", { value: name, selected: name === guess }, name)));
      selects[field].addEventListener("change", () => table());
      return h("div", { class: "field" }, h("label", { class: "field-label", for: id }, label), selects[field]);
    }));
    const sample = h("div", { class: "table-scroll" });
    const table = () => {
      const shown = FIELDS.filter(([field]) => selects[field].value);
      const cell = (row, field) => row[header.indexOf(selects[field].value)] ?? "";
      sample.replaceChildren(h("table", { class: "conflict-table", "data-testid": "import-sample" },
        h("thead", {}, h("tr", {}, shown.map(([, label]) => h("th", {}, label)))),
        h("tbody", {}, rows.slice(1).map((row) => h("tr", {}, shown.map(([field]) =>
          h("td", {}, field === "status" ? slug(cell(row, field)) : cell(row, field))))))));
    };
    table();
    chosen.selects = selects;
    preview.replaceChildren(h("p", { class: "panel-subtitle" }, `${chosen.file.name}: map its columns to task fields`),
      mapping, h("p", { class: "panel-subtitle" }, `The first ${rows.length - 1} rows as they will import:`), sample);
  }

  async function showTrello(picked) {
    if (picked.size > TRELLO_PREVIEW_MAX) {
      preview.replaceChildren(h("p", { class: "panel-subtitle" },
        `${picked.name}: ${(picked.size / 2 ** 20).toFixed(0)} MB, imported without a preview.`));
      return;
    }
    try {
      const data = JSON.parse(await picked.text());
      // Trello: the board with its arrays; Planka: {item: board, included: {lists, cards, ...}}.
      const planka = chosen.source === "planka";
      const board = planka ? data.item || {} : data;
      const parts = planka ? data.included || {} : data;
      const lists = (parts.lists || []).filter((list) => !list.closed && !["archive", "trash"].includes(list.type));
      const cards = parts.cards || [];
      const listOf = (card) => (planka ? card.listId : card.idList);
      const count = (list) => cards.filter((card) => listOf(card) === list.id && !card.closed).length;
      const comments = planka ? (parts.comments || []).length
        : (parts.actions || []).filter((a) => a.type === "commentCard").length;
      preview.replaceChildren(h("p", { class: "panel-subtitle" }, `${board.name}: ${cards.length} cards, ${comments} comments`),
        h("div", { class: "table-scroll" }, h("table", { class: "conflict-table", "data-testid": "import-sample" },
          h("thead", {}, h("tr", {}, h("th", {}, planka ? "Planka list" : "Trello list"), h("th", {}, "Column"),
            h("th", {}, "Cards"))),
          h("tbody", {}, lists.slice(0, 20).map((list) =>
            h("tr", {}, h("td", {}, list.name), h("td", {}, slug(list.name)), h("td", {}, String(count(list)))))))));
    } catch {
      preview.replaceChildren(h("p", { class: "form-error" }, "This file is not a board export (not JSON)."));
    }
  }

  start.addEventListener("click", async () => {
    const { file: picked, source, selects } = chosen;
    start.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      const options = {};
      if (source === "csv") {
        options.columns = Object.fromEntries(Object.entries(selects).filter(([, s]) => s.value).map(([f, s]) => [f, s.value]));
      }
      let job = await api("POST", "/imports", { body: { source, file_name: picked.name, size: picked.size, options } });
      for (let offset = 0; offset < picked.size; offset += PART_BYTES) {
        status.textContent = "Uploading…";
        job = await api("PUT", `/imports/${job.id}/content?offset=${offset}`,
          { body: picked.slice(offset, offset + PART_BYTES), headers: { "Content-Type": "application/octet-stream" } });
        progress.value = Math.round((50 * job.received) / picked.size);
      }
      while (job.state !== "done" && job.state !== "failed") {
        status.textContent = `Importing… ${job.progress}%`;
        progress.value = 50 + job.progress / 2;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        job = await api("GET", `/imports/${job.id}`);
      }
      progress.value = 100;
      if (job.state === "failed") throw new Error(job.error);
      const made = Object.entries(job.result.imported).map(([kind, n]) => `${n} ${kind}`).join(", ");
      const skipped = Object.entries(job.result.skipped).map(([why, n]) => `${n} × ${why}`).join("; ");
      status.textContent = `Imported: ${made || "nothing"}.${skipped ? ` Skipped: ${skipped}.` : ""}`;
      onDone(job);
    } catch (error) {
      status.textContent = `The import failed: ${error.message}`;
    } finally {
      start.disabled = false;
    }
  });
  return element;
}
