// The left-hand file tree: Startup, Run, Columns (+ Add column), Table, Plan, History.
import { h } from "./dom.js";

function fileItem(ctx, path, label, present) {
  if (!present.has(path)) return null;
  present.delete(path);
  return h("li", {},
    h("button", { type: "button", class: "tree-item", dataset: { path }, title: path, onclick: () => ctx.openFile(path) },
      label, label !== path ? h("span", { class: "muted path" }, path) : null));
}

function viewItem(ctx, view, label) {
  return h("li", {},
    h("button", { type: "button", class: "tree-item", dataset: { view }, onclick: () => ctx.openView(view) }, label));
}

function group(title, ...items) {
  const id = `tree-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "tree-group", "aria-labelledby": id },
    h("h2", { id }, title), h("ul", {}, ...items.filter(Boolean)));
}

/** Render the tree from the draft's file list and manifest. */
export function renderTree(ctx) {
  const present = new Set(ctx.files.map((f) => f.path));
  const manifest = ctx.manifest || {};
  const columns = [...(manifest.columns || [])].sort((a, b) => (a.ordinal || 0) - (b.ordinal || 0));
  const table = manifest.table || {};
  const transform = table.transform?.path || "table/transform.py";
  const validators = table.validators?.path || "table/validators.py";

  const columnItems = columns.map((c) => fileItem(ctx, c.path, `${c.label || c.key}${c.required ? " *" : ""}`, present));
  for (const path of [...present].filter((p) => p.startsWith("columns/")).sort()) {
    columnItems.push(fileItem(ctx, path, path.slice("columns/".length), present));
  }
  columnItems.push(h("li", {}, h("button", { type: "button", id: "add-column", class: "tree-add", onclick: () => ctx.addColumn() }, "+ Add column")));

  const groups = [
    group("Startup", fileItem(ctx, "startup.py", "startup.py", present), fileItem(ctx, "manifest.json", "manifest.json", present)),
    group("Run", fileItem(ctx, "run.py", "run.py", present)),
    group("Columns", ...columnItems),
    group("Table", fileItem(ctx, transform, "Transform", present), fileItem(ctx, validators, "Validators", present)),
    group("Plan", viewItem(ctx, "plan", "Plan and warnings"), viewItem(ctx, "dryrun", "Dry run")),
    group("History", viewItem(ctx, "history", "Versions and commits"), viewItem(ctx, "diff", "Diff with a version")),
  ];
  const rest = [...present].sort();
  if (rest.length) groups.push(group("Other files", ...rest.map((p) => fileItem(ctx, p, p, present))));
  document.getElementById("tree").replaceChildren(...groups);
  markTree(ctx);
}

/** Mark the open view or file (aria-current) and files with unsaved changes. */
export function markTree(ctx) {
  for (const button of document.querySelectorAll("#tree .tree-item")) {
    const { path, view } = button.dataset;
    const current = view ? ctx.view === view : ctx.view === "editor" && ctx.files_?.active === path;
    if (current) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
    const tab = path && ctx.files_?.tabs.get(path);
    button.classList.toggle("dirty", Boolean(tab && ctx.files_.isDirty(tab)));
  }
}
