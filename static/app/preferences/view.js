// The preferences page (/preferences): per kind of notification, where it reaches you —
// the bell, an email at once, the daily digest — and quiet hours, time zone, reminder
// lead time and digest hour. PATCH /api/v1/preferences saves what changed.

import { api } from "../api.js";
import { h } from "../dom.js";
import { toast } from "../toast.js";

const KINDS = [
  ["assigned", "You are assigned to a task"],
  ["mentioned", "Someone @mentions you"],
  ["watched", "Comments on what you watch"],
  ["changed", "Changes to what you watch"],
  ["due_soon", "A task of yours is due soon"],
  ["overdue", "A task of yours is overdue"],
  ["added_to_board", "You are added to a board"],
];
const CHANNELS = [["app", "In the app"], ["email", "Email at once"], ["digest", "Daily digest"]];
const LEADS = [[60, "1 hour"], [180, "3 hours"], [720, "12 hours"], [1440, "1 day"], [2880, "2 days"], [10080, "1 week"]];

function zones(current) {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current, ...known])];
}

export function mountPreferencesView(container) {
  document.title = "Preferences · Taskwire";
  const status = h("p", { class: "page-loading" }, "Loading…");
  const section = h("section", { class: "prefs-page", "aria-labelledby": "prefs-title" },
    h("h1", { id: "prefs-title" }, "Notification preferences"), status);
  container.append(section);
  let gone = false;
  api("GET", "/preferences").then((preferences) => {
    if (!gone) status.replaceWith(form(preferences));
  }).catch((problem) => { status.textContent = problem.message; });
  return () => { gone = true; };
}

function form(preferences) {
  const boxes = new Map(); // "kind/channel" -> checkbox
  const rows = KINDS.map(([kind, label]) => h("tr", {},
    h("th", { scope: "row" }, label),
    CHANNELS.map(([channel, channelLabel]) => {
      const box = h("input", { type: "checkbox", name: `${kind}.${channel}`, "aria-label": `${label}: ${channelLabel}`,
        checked: (preferences.channels[kind] || []).includes(channel),
        disabled: channel !== "app" && !preferences.email_enabled });
      boxes.set(`${kind}/${channel}`, box);
      return h("td", {}, box);
    })));
  const zone = h("select", { class: "input", name: "time_zone", id: "pref-zone" },
    zones(preferences.time_zone).map((name) => h("option", { value: name, selected: name === preferences.time_zone }, name)));
  const quiet = h("input", { type: "checkbox", id: "pref-quiet", checked: Boolean(preferences.quiet_start) });
  const quietStart = h("input", { class: "input", type: "time", id: "pref-quiet-start", value: preferences.quiet_start || "22:00" });
  const quietEnd = h("input", { class: "input", type: "time", id: "pref-quiet-end", value: preferences.quiet_end || "07:00" });
  const lead = h("select", { class: "input", id: "pref-lead" },
    LEADS.map(([minutes, label]) => h("option", { value: minutes, selected: minutes === preferences.reminder_lead_minutes }, label)));
  if (!LEADS.some(([minutes]) => minutes === preferences.reminder_lead_minutes)) {
    lead.append(h("option", { value: preferences.reminder_lead_minutes, selected: true },
      `${preferences.reminder_lead_minutes} minutes`));
  }
  const digest = h("select", { class: "input", id: "pref-digest" },
    Array.from({ length: 24 }, (_, hour) => h("option", { value: hour, selected: hour === preferences.digest_hour },
      `${String(hour).padStart(2, "0")}:00`)));
  const syncQuiet = () => { quietStart.disabled = quietEnd.disabled = !quiet.checked; };
  quiet.addEventListener("change", syncQuiet);
  syncQuiet();
  const save = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "save-preferences" }, "Save preferences");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const node = h("form", { class: "prefs-form" },
    preferences.email_enabled ? null : h("p", { class: "prefs-notice", role: "note", "data-testid": "email-disabled" },
      "This server sends no email (no SMTP server is configured), so notifications only reach you in the app."),
    h("table", { class: "prefs-table" },
      h("caption", { class: "visually-hidden" }, "Where each kind of notification reaches you"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Notify me when…"),
        CHANNELS.map(([, label]) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, rows)),
    h("div", { class: "prefs-grid" },
      h("div", { class: "field" }, h("label", { class: "field-label", for: "pref-zone" }, "Time zone"), zone),
      h("div", { class: "field" }, h("label", { class: "field-label", for: "pref-lead" }, "Remind me before a due date"), lead),
      h("div", { class: "field" }, h("label", { class: "field-label", for: "pref-digest" }, "Send the daily digest at"), digest)),
    h("fieldset", { class: "field prefs-quiet" },
      h("legend", { class: "field-label" }, "Quiet hours"),
      h("label", { class: "prefs-check" }, quiet, " Hold emails during quiet hours"),
      h("div", { class: "prefs-grid" },
        h("div", { class: "field" }, h("label", { class: "field-label", for: "pref-quiet-start" }, "From"), quietStart),
        h("div", { class: "field" }, h("label", { class: "field-label", for: "pref-quiet-end" }, "Until"), quietEnd))),
    error, h("div", { class: "dialog-actions" }, save));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    save.disabled = true;
    const channels = Object.fromEntries(KINDS.map(([kind]) =>
      [kind, CHANNELS.map(([channel]) => channel).filter((channel) => boxes.get(`${kind}/${channel}`).checked)]));
    const body = {
      channels, time_zone: zone.value, reminder_lead_minutes: Number(lead.value), digest_hour: Number(digest.value),
      quiet_start: quiet.checked ? quietStart.value : null, quiet_end: quiet.checked ? quietEnd.value : null,
    };
    try {
      await api("PATCH", "/preferences", { body });
      toast("Preferences saved.");
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
  return node;
}
