// A task's repeat rule in the task dialog (PUT/DELETE /tasks/{id}/recurrence): when the
// task reaches the board's last column, the server creates its next occurrence once.

import { api } from "../api.js";
import { h, uid } from "../dom.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const KINDS = [["", "Does not repeat"], ["daily", "Every N days"], ["weekly", "Every N weeks, on…"],
               ["monthly", "Every N months, on day…"], ["after_done", "N days after it is done"]];

/** The rule in words: "Repeats every 2 weeks on Mon, Thu". */
export function describeRule(rule) {
  const every = (unit) => (rule.interval === 1 ? `every ${unit}` : `every ${rule.interval} ${unit}s`);
  switch (rule.kind) {
    case "daily": return `Repeats ${every("day")}`;
    case "weekly": return `Repeats ${every("week")} on ${rule.weekdays.map((d) => d[0].toUpperCase() + d.slice(1)).join(", ")}`;
    case "monthly": return `Repeats ${every("month")} on day ${rule.day_of_month}`;
    case "after_done": return `Repeats ${rule.interval} day${rule.interval === 1 ? "" : "s"} after it is done`;
    default: return "Does not repeat";
  }
}

export class RecurrenceControl {
  constructor({ state }) {
    this.state = state;
    this.taskId = null;
    this.rule = null;
    const id = uid("repeat");
    this.kind = h("select", { class: "input", id, name: "repeat", "data-testid": "repeat-kind" },
      KINDS.map(([value, text]) => h("option", { value }, text)));
    this.interval = h("input", { class: "input", type: "number", min: 1, max: 366, value: 1, name: "repeat-interval",
                                 "aria-label": "N" });
    this.day = h("input", { class: "input", type: "number", min: 1, max: 31, value: 1, name: "repeat-day",
                            "aria-label": "Day of the month" });
    this.weekdays = h("div", { class: "assignee-list" }, WEEKDAYS.map((day) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: day }), h("span", {}, day[0].toUpperCase() + day.slice(1)))));
    this.summary = h("p", { class: "field-hint", "data-testid": "repeat-summary" });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.save = h("button", { type: "button", class: "btn btn-ghost", onclick: () => this.store() }, "Set repeat");
    this.element = h("section", { class: "task-section repeat", "data-testid": "repeat" },
      h("label", { class: "section-title", for: id }, "Repeat"), this.kind,
      h("div", { class: "field-grid" }, this.interval, this.day), this.weekdays, this.summary, this.error, this.save);
    this.kind.addEventListener("change", () => this.layout());
  }

  async open(taskId) {
    this.taskId = taskId;
    this.fill(null);
    this.enable(false); // until the rule is read, so that nothing typed meanwhile is overwritten
    try {
      const { rule } = await api("GET", `/tasks/${taskId}/recurrence`);
      if (this.taskId !== taskId) return;
      this.fill(rule);
      this.enable(this.state.canEdit);
    } catch (error) {
      this.fail(error.message);
    }
  }

  enable(editable) {
    for (const control of this.element.querySelectorAll("input, select, button")) control.disabled = !editable;
  }

  close() {
    this.taskId = null;
  }

  fill(rule) {
    this.rule = rule;
    this.kind.value = rule?.kind || "";
    this.interval.value = rule?.interval || 1;
    this.day.value = rule?.day_of_month || new Date().getUTCDate();
    for (const box of this.weekdays.querySelectorAll("input")) box.checked = Boolean(rule?.weekdays.includes(box.value));
    this.summary.textContent = rule ? describeRule(rule) : "Does not repeat";
    this.error.hidden = true;
    this.layout();
  }

  layout() {
    const kind = this.kind.value;
    this.interval.hidden = !kind;
    this.day.hidden = kind !== "monthly";
    this.weekdays.hidden = kind !== "weekly";
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  async store() {
    const taskId = this.taskId;
    const kind = this.kind.value;
    try {
      if (!kind) {
        if (this.rule) await api("DELETE", `/tasks/${taskId}/recurrence`);
        return this.fill(null);
      }
      const body = { kind, interval: Number(this.interval.value) || 1 };
      if (kind === "weekly") body.weekdays = [...this.weekdays.querySelectorAll("input:checked")].map((box) => box.value);
      if (kind === "monthly") body.day_of_month = Number(this.day.value);
      const { rule } = await api("PUT", `/tasks/${taskId}/recurrence`, { body });
      if (this.taskId === taskId) this.fill(rule);
    } catch (error) {
      this.fail(error.message);
    }
  }
}
