// /boards/{id}/analytics: how work flows on the board, from GET /boards/{id}/analytics
// (docs/analytics.md). A date range form, then the charts, each with its data table, and
// the overdue tasks. Refetched when the board changes (its live channel), so what is shown
// follows the board as the server's seq-cached figures do.

import { api } from "../api.js";
import { columnLabel, h } from "../dom.js";
import { replaceQuery } from "../router.js";
import { toast } from "../toast.js";
import { barChart, stackedAreaChart } from "./charts.js";

const DEFAULT_DAYS = 28;
const REFETCH_DELAY_MS = 800;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function defaultRange() {
  const to = new Date();
  const from = new Date(to.getTime() - (DEFAULT_DAYS - 1) * 86_400_000);
  return { from: isoDay(from), to: isoDay(to) };
}

function stylesheet() {
  const href = new URL("./analytics.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

const hours = (value) => (value === null ? null : Math.round(value * 10) / 10);

function charts(result, members, board) {
  const label = (column) => columnLabel(column, board); // its display name, if it has one
  const days = result.cumulative_flow.map((day) => day.date.slice(5));
  const columns = Object.keys(result.cumulative_flow[0]?.counts || {});
  const stacked = [...columns].reverse(); // done at the bottom, as flow diagrams are read
  const weeks = result.weeks.map((week) => week.week.slice(5));
  const lastFlow = result.cumulative_flow.at(-1)?.counts || {};
  const wipColumns = Object.keys(result.wip.by_column);
  const name = (row) => row.name || members.get(row.user_id) || "Someone";
  return [
    stackedAreaChart({
      testid: "chart-flow",
      title: "Cumulative flow",
      description: `Tasks in each column at the end of each day from ${result.from} to ${result.to}. `
        + `On the last day: ${stacked.map((column) => `${label(column)} ${lastFlow[column] ?? 0}`).join(", ")}.`,
      labels: days,
      series: stacked.map((column) => ({ name: label(column), values: result.cumulative_flow.map((day) => day.counts[column] ?? 0) })),
    }),
    barChart({
      testid: "chart-throughput",
      title: "Throughput per week",
      description: `Tasks completed in each week: ${result.weeks.map((week) => `week of ${week.week}: ${week.throughput}`).join(", ")}.`,
      labels: weeks,
      labelHeading: "Week of",
      series: [{ name: "Completed", values: result.weeks.map((week) => week.throughput) }],
    }),
    ...[["lead_time_hours", "Lead time", "created to done"], ["cycle_time_hours", "Cycle time", "started to done"]].map(([key, title, span]) =>
      barChart({
        testid: `chart-${key.split("_")[0]}`,
        title: `${title} per week (hours)`,
        description: `${title} (${span}) of the tasks completed each week, median and 85th percentile, in hours; `
          + "weeks with no completed task have no bars.",
        labels: weeks,
        labelHeading: "Week of",
        unit: " h",
        series: [
          { name: "Median", values: result.weeks.map((week) => hours(week[key].median)) },
          { name: "85th percentile", values: result.weeks.map((week) => hours(week[key].p85)) },
        ],
      })),
    barChart({
      testid: "chart-wip-column",
      title: "Work in progress per column",
      description: `Open tasks in each column on ${result.to}: ${wipColumns.map((column) => `${label(column)} ${result.wip.by_column[column]}`).join(", ")}.`,
      labels: wipColumns.map(label),
      labelHeading: "Column",
      series: [{ name: "Open tasks", values: wipColumns.map((column) => result.wip.by_column[column]) }],
    }),
    barChart({
      testid: "chart-wip-assignee",
      title: "Work in progress per assignee",
      description: `Open tasks per person on ${result.to}: `
        + `${[...result.wip.by_assignee.map((row) => `${name(row)} ${row.count}`), `unassigned ${result.wip.unassigned}`].join(", ")}.`,
      labels: [...result.wip.by_assignee.map(name), "Unassigned"],
      labelHeading: "Assignee",
      series: [{ name: "Open tasks", values: [...result.wip.by_assignee.map((row) => row.count), result.wip.unassigned] }],
    }),
  ];
}

function overdueList(result, members, board) {
  const items = result.overdue.map((task) => h("li", { class: "overdue-item" },
    h("a", { href: `/boards/${result.board_id}?task=${task.id}`, "data-link": true }, task.title),
    h("span", { class: "muted" }, ` · ${columnLabel(task.status, board)} · due ${task.due_at.slice(0, 10)}`,
      task.assignees.length ? ` · ${task.assignees.map((id) => members.get(id) || "someone").join(", ")}` : "")));
  return h("section", { class: "overdue", "data-testid": "overdue", "aria-labelledby": "overdue-title" },
    h("h2", { id: "overdue-title" }, `Overdue on ${result.to} (${result.overdue.length})`),
    items.length ? h("ul", {}, items) : h("p", { class: "muted" }, "Nothing overdue."));
}

export function mountAnalyticsView(container, boardId, live, query) {
  stylesheet();
  document.title = "Analytics · Taskwire";
  const range = { ...defaultRange(), ...Object.fromEntries([...query].filter(([key]) => key === "from" || key === "to")) };
  const from = h("input", { type: "date", class: "input", id: "analytics-from", value: range.from, required: true });
  const to = h("input", { type: "date", class: "input", id: "analytics-to", value: range.to, required: true });
  const form = h("form", { class: "analytics-range", "aria-label": "Date range" },
    h("label", { class: "field" }, h("span", { class: "field-label" }, "From"), from),
    h("label", { class: "field" }, h("span", { class: "field-label" }, "To"), to),
    h("button", { type: "submit", class: "btn" }, "Show"));
  const title = h("h1", {}, "Analytics");
  const body = h("div", { class: "analytics-body", "aria-live": "polite", "aria-busy": "true" });
  const back = h("a", { href: `/boards/${boardId}`, "data-link": true }, "Board");
  container.append(h("section", { class: "page analytics-page", "data-testid": "analytics" },
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/", "data-link": true }, "Boards"),
      h("span", { "aria-hidden": "true" }, "/"), back),
    h("div", { class: "page-head" }, title), form, body));

  let alive = true;
  let members = new Map();
  let timer = null;
  const load = async () => {
    body.setAttribute("aria-busy", "true");
    try {
      const [board, result, people] = await Promise.all([
        api("GET", `/boards/${boardId}`),
        api("GET", `/boards/${boardId}/analytics`, { query: { from: range.from, to: range.to } }),
        api("GET", `/boards/${boardId}/members`),
      ]);
      if (!alive) return;
      members = new Map((people.items || people).map((member) => [member.user_id, member.name]));
      title.textContent = `Analytics · ${board.name}`;
      back.textContent = board.name;
      document.title = `Analytics · ${board.name} · Taskwire`;
      body.dataset.seq = String(result.seq);
      body.replaceChildren(h("div", { class: "chart-grid-layout" }, charts(result, members, board)), overdueList(result, members, board));
    } catch (error) {
      if (alive) toast(error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value > to.value) {
      toast("‘From’ must be on or before ‘To’.", "error");
      return;
    }
    Object.assign(range, { from: from.value, to: to.value });
    replaceQuery(new URLSearchParams(range));
    load();
  });
  load();
  // The board's changes move the figures: read them again shortly after (batched).
  const leave = live.join({
    subscribe: (id) => ({ type: "subscribe", board: boardId, since: null, id }),
    unsubscribe: () => ({ type: "unsubscribe", board: boardId }),
    receive: (message) => {
      if (message.board !== boardId || message.type !== "event") return;
      clearTimeout(timer);
      timer = setTimeout(load, REFETCH_DELAY_MS);
    },
  });
  return () => {
    alive = false;
    clearTimeout(timer);
    leave();
  };
}
