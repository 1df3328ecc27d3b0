// The board's side panel: Activity and Members as tabs (WAI-ARIA tabs pattern: arrow keys
// move between tabs, only the selected tab is in the tab order).

import { h, uid } from "../dom.js";

export class SidePanel {
  constructor(sections) {
    this.tabs = [];
    this.panels = [];
    this.names = [];
    const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Board details" });
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
    this.element = h("aside", { class: "side", "aria-label": "Board details" }, tablist, this.panels);
    this.select(0);
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
