// The editor page: wires the tree, the Monaco tabs, dry-run, plan and versions views.
import { api, ApiError } from "./api.js";
import { h, notify, dialog } from "./dom.js";
import { initSession } from "./session.js";
import { Files } from "./files.js";
import { renderTree, markTree } from "./tree.js";
import { DryRun } from "./dryrun.js";
import { Versions } from "./versions.js";

const layout = document.querySelector(".layout");
const ctx = {
  ws: layout.dataset.ws,
  configId: layout.dataset.config,
  base: `/workspaces/${encodeURIComponent(layout.dataset.ws)}/configs/${encodeURIComponent(layout.dataset.config)}`,
  view: "editor",
  files: [],
  manifest: null,
};

ctx.showView = (name) => {
  ctx.view = name;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  markTree(ctx);
};

let filesReady;
ctx.ready = new Promise((resolve) => { filesReady = resolve; });

ctx.openFile = async (path) => {
  await ctx.ready;
  try {
    await ctx.files_.open(path);
  } catch (err) {
    notify(`Could not open ${path}: ${err.message}`, "error");
  }
};

ctx.openView = async (name) => {
  ctx.showView(name);
  document.getElementById(`view-${name}`).querySelector("h1")?.focus?.();
  try {
    if (name === "dryrun") await ctx.dryrun.loadDocuments(document.getElementById("dryrun-document").value);
    if (name === "history") await ctx.versions.showHistory();
    if (name === "diff") await ctx.versions.load();
    if (name === "plan") await loadPlan();
  } catch (err) {
    notify(err.message, "error");
  }
};

ctx.onFilesChanged = () => markTree(ctx);

ctx.onSaved = async (path) => {
  if (path === "manifest.json") await refreshTree();
};

ctx.refreshVersions = async () => {
  await ctx.versions.load();
  if (ctx.view === "history") await ctx.versions.loadHistory();
};

async function refreshTree() {
  const [files, manifest] = await Promise.all([
    api("GET", `${ctx.base}/draft/files`),
    api("GET", `${ctx.base}/draft/manifest`),
  ]);
  ctx.files = Array.isArray(files.data) ? files.data : files.data.files || [];
  ctx.manifest = manifest.data?.manifest || manifest.data;
  renderTree(ctx);
}

async function loadConfig() {
  const { data } = await api("GET", ctx.base);
  ctx.config = data;
  document.getElementById("config-title").textContent = data.title || data.slug;
  document.title = `${data.title || data.slug} · ADE editor`;
  document.getElementById("clone-url").value = data.clone_url || "";
}

function wireClone() {
  const input = document.getElementById("clone-url");
  document.getElementById("copy-clone").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    notify("Clone URL copied");
  });
}

/** Plan view: phases, enabled columns in execution order, non-blocking warnings. */
async function loadPlan() {
  const body = document.getElementById("plan-body");
  const { data } = await api("POST", `${ctx.base}/draft:plan`);
  const warnings = data.warnings || [];
  body.replaceChildren(
    h("h2", {}, "Phases"), h("ol", { class: "phases" }, ...(data.phases || []).map((p) => h("li", {}, p))),
    h("h2", {}, "Columns in execution order"),
    h("ol", {}, ...(data.dag || []).map((c) => h("li", {}, h("code", {}, c.key || String(c)),
      c.depends_on?.length ? ` (after ${c.depends_on.join(", ")})` : ""))),
    h("h2", {}, `Warnings (${warnings.length})`),
    warnings.length ? h("ul", { class: "warnings-list" }, ...warnings.map((w) => h("li", {},
      typeof w === "string" ? w : [w.path ? h("button", { type: "button", class: "link-button", onclick: () => openAt(w) }, `${w.path}${w.line ? ":" + w.line : ""}`) : null,
        " ", w.code ? h("code", {}, w.code) : null, " ", w.where ? `${w.where}: ${w.message}` : w.message]))) : h("p", { class: "muted" }, "No warnings."),
  );
  applyWarnings(warnings);
}

function applyWarnings(warnings) {
  const byPath = new Map();
  for (const w of warnings) if (w && w.path) byPath.set(w.path, [...(byPath.get(w.path) || []), w]);
  for (const [path, list] of byPath) ctx.files_.setWarnings(path, list);
}

async function openAt(w) {
  await ctx.openFile(w.path);
  ctx.files_.reveal(w.line, w.col);
}
ctx.openAt = openAt;

function wireAddColumn() {
  const el = dialog("add-column-dialog");
  const key = document.getElementById("column-key");
  const label = document.getElementById("column-label");
  const error = document.getElementById("add-column-error");
  label.addEventListener("input", () => {
    if (!key.dataset.touched) key.value = label.value.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+|_+$/g, "").slice(0, 63);
  });
  key.addEventListener("input", () => { key.dataset.touched = "1"; });
  ctx.addColumn = () => {
    document.getElementById("add-column-form").reset();
    delete key.dataset.touched;
    error.textContent = "";
    el.showModal();
    label.focus();
  };
  document.getElementById("add-column-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = { key: key.value.trim(), label: label.value.trim(), required: document.getElementById("column-required").checked };
    try {
      const { data } = await api("POST", `${ctx.base}/draft/columns`, { json: body });
      el.close();
      await refreshTree();
      notify(`Added column ${body.key}`);
      await ctx.openFile(data?.path || `columns/${body.key}.py`);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.messages().join(" · ") : String(err);
    }
  });
}

function wireNavigationGuard() {
  window.addEventListener("beforeunload", (event) => {
    if (ctx.files_?.anyDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  for (const link of document.querySelectorAll("a[href]")) {
    link.addEventListener("click", (event) => {
      if (ctx.files_?.anyDirty() && !confirm("You have unsaved changes. Leave this page and lose them?")) event.preventDefault();
      else ctx.leaving = true;
    });
  }
}

async function main() {
  if (!initSession()) return;
  wireClone();
  wireAddColumn();
  wireNavigationGuard();
  document.getElementById("plan-refresh").addEventListener("click", () => loadPlan().catch((err) => notify(err.message, "error")));
  ctx.versions = new Versions(ctx);
  ctx.dryrun = new DryRun(ctx);
  try {
    await Promise.all([loadConfig(), refreshTree(), ctx.versions.load()]);
  } catch (err) {
    notify(err.message, "error");
    return;
  }
  ctx.monaco = await window.monacoReady;
  ctx.files_ = new Files(ctx);
  window.adeEditor = ctx; // for the browser tests and the console
  filesReady();
  document.body.dataset.ready = "true";
  loadPlan().catch(() => {}); // warnings as markers once the plan endpoint answers
  ctx.showView("editor");
}

main();
