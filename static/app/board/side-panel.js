// The board's side panel: Activity and Members as tabs (WAI-ARIA tabs pattern: arrow keys
// move between tabs, only the selected tab is in the tab order). It folds away to a narrow
// strip, so a board with many columns gets the width; the choice is remembered.

import { h, uid } from "../dom.js";

const COLLAPSED_KEY = "taskwire.sideCollapsed";

export class SidePanel {
  constructor(sections) {
    this.tabs = [];
    this.panels = [];
    this.names = [];
    const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Board details" });
    const contentId = uid("side");
    for (const [name, body] of sections) {
      const tabId = uid("tab");
      const panelId = uid("panel");
      const tab = h("button", { type: "button", class: "tab", role: "tab", id: tabId, "aria-controls": panelId,
                                "data-testid": `tab-${name.toLowerCase()}` }, name);
      const panel = h("div", { class: "tab-panel", role: "tabpanel", id: panelId, "aria-labelledby": tabId, tabindex: "0" }, body);
      tab.addEventListener("click", () => this.select(this.tabs.indexOf(tab)));
      this.tabs.push(tab);
      this.panels.push(panel);
      this.names.push(name);
      tablist.append(tab);
    }
    tablist.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = (this.selected + step + this.tabs.length) % this.tabs.length;
      this.select(next);
      this.tabs[next].focus();
    });
    this.toggle = h("button", { type: "button", class: "btn-icon side-toggle", "aria-controls": contentId,
                                "data-testid": "side-toggle" });
    this.toggle.addEventListener("click", () => this.setCollapsed(!this.collapsed, true));
    this.element = h("aside", { class: "side", "aria-label": "Board details" },
      h("div", { class: "side-bar" }, this.toggle, tablist),
      h("div", { class: "side-content", id: contentId }, this.panels));
    this.select(0);
    this.setCollapsed(localStorage.getItem(COLLAPSED_KEY) === "1");
  }

  setCollapsed(collapsed, remember = false) {
    this.collapsed = collapsed;
    this.element.classList.toggle("side-collapsed", collapsed);
    this.toggle.setAttribute("aria-expanded", String(!collapsed));
    this.toggle.setAttribute("aria-label", collapsed ? "Show activity and members" : "Hide activity and members");
    this.toggle.title = this.toggle.getAttribute("aria-label");
    this.toggle.textContent = collapsed ? "«" : "»";
    if (remember) localStorage.setItem(COLLAPSED_KEY, collapsed ? "1" : "0");
  }

  select(index) {
    this.selected = index;
    this.tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
      this.panels[i].hidden = i !== index;
    });
  }

  /** Show a count on a tab ("Members 3"). */
  setCount(index, count) {
    this.tabs[index].replaceChildren(this.names[index], h("span", { class: "tab-count" }, String(count)));
  }
}
