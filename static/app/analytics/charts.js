// Accessible SVG charts, no library: each chart is a <figure> whose <svg role="img"> has a
// <title> and a <desc> that says what it shows in words, a visible legend, and the data
// table behind it (a <details> anyone can open; screen readers reach it like any table).
// Colours come from CSS classes (series-0 …), so they follow the theme and the CSP.

import { h, uid } from "../dom.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 240;
const PAD = { top: 12, right: 12, bottom: 28, left: 40 };

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A round top for the y axis: 1, 2, 5 × 10ⁿ. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function frame(title, description, yMax, xLabels, yUnit = "") {
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId} ${descId}`, class: "chart" },
    s("title", { id: titleId }, title), s("desc", { id: descId }, description));
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const y = (value) => PAD.top + plotHeight - (value / yMax) * plotHeight;
  const grid = s("g", { class: "chart-grid", "aria-hidden": "true" });
  for (const fraction of [0, 0.5, 1]) {
    const value = yMax * fraction;
    grid.append(s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }),
      s("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end" }, `${Number(value.toFixed(1))}${yUnit}`));
  }
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const step = xLabels.length > 1 ? plotWidth / (xLabels.length - 1) : 0;
  const every = Math.max(1, Math.ceil(xLabels.length / 7));
  xLabels.forEach((label, index) => {
    if (index % every) return;
    // The first and last labels sit at the plot's edges: anchored inwards, not cut off.
    const anchor = index === 0 && xLabels.length > 1 ? "start" : index === xLabels.length - 1 && index ? "end" : "middle";
    grid.append(s("text", { class: "x-label", x: PAD.left + step * index, y: HEIGHT - 8, "text-anchor": anchor }, label));
  });
  svg.append(grid);
  return { svg, y, x: (index) => PAD.left + step * index, plotWidth };
}

function legend(names) {
  return h("ul", { class: "chart-legend", "aria-hidden": "true" },
    names.map((name, index) => h("li", {}, h("span", { class: `swatch series-${index}` }), name)));
}

function table(caption, head, rows) {
  return h("details", { class: "chart-data" },
    h("summary", {}, "Data table"),
    h("table", { class: "data-table" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col" }, cell)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, index) =>
        index === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell ?? "–")))))));
}

function figure(testid, title, svg, names, dataTable) {
  return h("figure", { class: "chart-figure", "data-testid": testid },
    h("figcaption", { class: "chart-caption" }, title), svg, names ? legend(names) : null, dataTable);
}

/**
 * Stacked areas, one per series, over `labels` (x). `series`: [{name, values}], drawn
 * bottom-up in the order given.
 */
export function stackedAreaChart({ testid, title, description, labels, series }) {
  const totals = labels.map((_, index) => series.reduce((sum, one) => sum + one.values[index], 0));
  const chart = frame(title, description, niceMax(Math.max(0, ...totals)), labels);
  const below = labels.map(() => 0);
  series.forEach((one, index) => {
    const top = one.values.map((value, at) => below[at] + value);
    const forward = top.map((value, at) => `${chart.x(at)},${chart.y(value)}`);
    const back = below.map((value, at) => `${chart.x(at)},${chart.y(value)}`).reverse();
    chart.svg.append(s("polygon", { class: `area series-${index}`, points: [...forward, ...back].join(" ") }));
    top.forEach((value, at) => { below[at] = value; });
  });
  const rows = labels.map((label, at) => [label, ...series.map((one) => one.values[at])]);
  return figure(testid, title, chart.svg, series.map((one) => one.name),
    table(title, ["Date", ...series.map((one) => one.name)], rows));
}

/**
 * Vertical bars in groups: one group per label, one bar per series (null: no bar).
 */
export function barChart({ testid, title, description, labels, series, unit = "", labelHeading }) {
  const values = series.flatMap((one) => one.values.filter((value) => value !== null));
  const chart = frame(title, description, niceMax(Math.max(0, ...values)), labels, unit);
  const slot = labels.length ? chart.plotWidth / labels.length : 0;
  const barWidth = Math.max(2, (slot * 0.7) / series.length);
  // Bars sit centred on their label, which frame() puts at x(index) for a point chart.
  const centre = (index) => PAD.left + slot * index + slot / 2;
  const bars = s("g", {});
  labels.forEach((label, index) => {
    series.forEach((one, which) => {
      const value = one.values[index];
      if (value === null || value === undefined) return;
      const x = centre(index) - (barWidth * series.length) / 2 + barWidth * which;
      bars.append(s("rect", { class: `bar series-${which}`, x, y: chart.y(value), width: barWidth - 1,
        height: Math.max(0, chart.y(0) - chart.y(value)) }, s("title", {}, `${label}, ${one.name}: ${value}${unit}`)));
    });
  });
  chart.svg.append(bars);
  // Re-place the x labels under the bars.
  chart.svg.querySelectorAll(".x-label").forEach((node) => node.remove());
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, index) => {
    if (index % every) return;
    chart.svg.append(s("text", { class: "chart-axis", x: centre(index), y: HEIGHT - 8, "text-anchor": "middle", "aria-hidden": "true" }, label));
  });
  const rows = labels.map((label, at) => [label, ...series.map((one) => one.values[at])]);
  return figure(testid, title, chart.svg, series.length > 1 ? series.map((one) => one.name) : null,
    table(title, [labelHeading, ...series.map((one) => one.name)], rows));
}
