// The left-hand tree: Startup, Run, Columns (+ Add column), Table, Plan, Jobs,
// History, other files. A filter box narrows the files; a context menu (right
// click, Shift+F10, the menu key) and keys (F2, Delete, arrows) act on a file;
// files changed since the live version are marked.
import { h } from "./dom.js";
import { on } from "./bus.js";
import * as router from "./router.js";

const CHANGE_MARK = { added: "A", modified: "M" };

export class Tree {
  /** ``actions``: {addColumn(), rename(path), remove(path)}. */
  constructor(draft, actions) {
    this.draft = draft;
    this.actions = actions;
    this.active = null;
    this.dirty = new Set();
    this.route = router.currentRoute();
    this.root = document.getElementById("tree");
    this.filter = document.getElementById("tree-filter");
    this.menu = document.getElementById("tree-menu");
    this.filter.addEventListener("input", () => this.applyFilter());
    this.filter.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") { e.preventDefault(); this.items()[0]?.focus(); }
      if (e.key === "Escape") { this.filter.value = ""; this.applyFilter(); }
    });
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.root.addEventListener("contextmenu", (e) => {
      const button = e.target.closest(".tree-item[data-path]");
      if (!button) return;
      e.preventDefault();
      this.openMenu(button, e.clientX, e.clientY);
    });
    this.menu.addEventListener("click", (e) => this.onMenu(e));
    this.menu.addEventListener("keydown", (e) => this.onMenuKey(e));
    document.addEventListener("click", (e) => { if (!this.menu.contains(e.target)) this.closeMenu(); });
    on("draft", () => this.render());
    on("tabs", ({ active, dirty }) => { this.active = active; this.dirty = new Set(dirty); this.mark(); });
    on("route", (route) => { this.route = route; this.mark(); });
  }

  items() {
    return [...this.root.querySelectorAll(".tree-item, .tree-add")].filter((b) => !b.closest("[hidden]"));
  }

  fileItem(path, label, present) {
    if (!present.has(path)) return null;
    present.delete(path);
    const change = this.draft.changed.get(path);
    return h("li", { dataset: { file: path } },
      h("button", {
        type: "button", class: "tree-item", dataset: { path }, title: path,
        "aria-haspopup": "menu", onclick: () => router.go("editor", path),
      },
      label, label !== path ? h("span", { class: "muted path" }, path) : null,
      change ? h("span", { class: `change change-${change}`, title: `${change} since the live version` }, CHANGE_MARK[change] || "") : null));
  }

  viewItem(view, label) {
    return h("li", {}, h("button", { type: "button", class: "tree-item", dataset: { view }, onclick: () => router.go(view) }, label));
  }

  group(title, ...items) {
    const id = `tree-${title.toLowerCase().replace(/\W+/g, "-")}`;
    return h("section", { class: "tree-group", "aria-labelledby": id },
      h("h2", { id }, title), h("ul", {}, ...items.filter(Boolean)));
  }

  render() {
    const present = new Set(this.draft.files.map((f) => f.path));
    const manifest = this.draft.manifest || {};
    const columns = [...(manifest.columns || [])].sort((a, b) => (a.ordinal || 0) - (b.ordinal || 0));
    const table = manifest.table || {};
    const transform = table.transform?.path || "table/transform.py";
    const validators = table.validators?.path || "table/validators.py";
    const columnItems = columns.map((c) => this.fileItem(c.path, `${c.label || c.key}${c.required ? " *" : ""}`, present));
    for (const path of [...present].filter((p) => p.startsWith("columns/")).sort()) {
      columnItems.push(this.fileItem(path, path.slice("columns/".length), present));
    }
    columnItems.push(h("li", {}, h("button", { type: "button", id: "add-column", class: "tree-add", onclick: () => this.actions.addColumn() }, "+ Add column")));
    const groups = [
      this.group("Startup", this.fileItem("startup.py", "startup.py", present), this.fileItem("manifest.json", "manifest.json", present)),
      this.group("Run", this.fileItem("run.py", "run.py", present)),
      this.group("Columns", ...columnItems),
      this.group("Table", this.fileItem(transform, "Transform", present), this.fileItem(validators, "Validators", present)),
    ];
    const rest = [...present].sort();
    if (rest.length) groups.push(this.group("Other files", ...rest.map((p) => this.fileItem(p, p, present))));
    const deleted = [...this.draft.changed].filter(([, s]) => s === "deleted").map(([p]) => p);
    if (deleted.length) groups.push(h("p", { class: "muted deleted-note" }, `Deleted since live: ${deleted.join(", ")}`));
    groups.push(
      this.group("Plan", this.viewItem("plan", "Plan and warnings"), this.viewItem("dryrun", "Dry run")),
      this.group("Jobs", this.viewItem("jobs", "Jobs")),
      this.group("History", this.viewItem("history", "Versions and commits")),
    );
    const refocus = this.focusedSelector();
    this.root.replaceChildren(...groups);
    this.applyFilter();
    this.mark();
    // A re-render (the draft changed: a save, a rename, a refresh) must not take
    // the keyboard focus away from the item a user is on (F2, Delete, arrows).
    if (refocus) this.root.querySelector(refocus)?.focus();
  }

  /** A selector for the tree item that has the focus, or null. */
  focusedSelector() {
    const el = document.activeElement;
    if (!el || !this.root.contains(el)) return null;
    if (el.dataset.path) return `[data-path="${CSS.escape(el.dataset.path)}"]`;
    if (el.dataset.view) return `[data-view="${CSS.escape(el.dataset.view)}"]`;
    return el.id ? `#${CSS.escape(el.id)}` : null;
  }

  /** Hide files whose path or label does not contain the filter text. */
  applyFilter() {
    const needle = this.filter.value.trim().toLowerCase();
    for (const li of this.root.querySelectorAll("li[data-file]")) {
      li.hidden = Boolean(needle) && !li.textContent.toLowerCase().includes(needle) && !li.dataset.file.toLowerCase().includes(needle);
    }
    for (const section of this.root.querySelectorAll(".tree-group")) {
      const files = section.querySelectorAll("li[data-file]");
      section.hidden = Boolean(needle) && files.length > 0 && [...files].every((li) => li.hidden);
    }
  }

  /** Mark the current view or file (aria-current) and files with unsaved changes. */
  mark() {
    const route = this.route || {};
    for (const button of this.root.querySelectorAll(".tree-item")) {
      const { path, view } = button.dataset;
      const current = view
        ? route.view === view || (view === "jobs" && route.view === "job") || (view === "history" && route.view === "version")
        : route.view === "editor" && this.active === path;
      if (current) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
      button.classList.toggle("dirty", Boolean(path && this.dirty.has(path)));
    }
  }

  onKey(event) {
    const button = event.target.closest(".tree-item, .tree-add");
    if (!button) return;
    const path = button.dataset.path;
    const items = this.items();
    const i = items.indexOf(button);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      items[Math.max(0, Math.min(items.length - 1, i + (event.key === "ArrowDown" ? 1 : -1)))]?.focus();
    } else if (path && event.key === "F2") {
      event.preventDefault();
      this.actions.rename(path);
    } else if (path && event.key === "Delete") {
      event.preventDefault();
      this.actions.remove(path);
    } else if (path && (event.key === "ContextMenu" || (event.shiftKey && event.key === "F10"))) {
      event.preventDefault();
      const box = button.getBoundingClientRect();
      this.openMenu(button, box.left + 24, box.bottom);
    }
  }

  openMenu(button, x, y) {
    this.menuPath = button.dataset.path;
    this.menuFor = button;
    this.menu.hidden = false;
    this.menu.style.left = `${Math.min(x, window.innerWidth - 200)}px`;
    this.menu.style.top = `${Math.min(y, window.innerHeight - 120)}px`;
    this.menu.querySelector("button").focus();
  }

  closeMenu() {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
  }

  onMenu(event) {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (!action) return;
    const path = this.menuPath;
    this.closeMenu();
    if (action === "open") router.go("editor", path);
    if (action === "rename") this.actions.rename(path);
    if (action === "delete") this.actions.remove(path);
  }

  onMenuKey(event) {
    const buttons = [...this.menu.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (event.key === "Escape") {
      this.closeMenu();
      this.menuFor?.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      buttons[(i + (event.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
    }
  }
}
