// The editor page: builds the modules and routes addresses to views. Each module
// owns its state; they talk through bus.js events and a few calls made here.
import { api, errorMessages } from "./api.js";
import { notify, copyText } from "./dom.js";
import { on } from "./bus.js";
import { initSession, whoAmI } from "./session.js";
import * as router from "./router.js";
import { Draft } from "./state.js";
import { Files } from "./files.js";
import { Tree } from "./tree.js";
import { FileOps } from "./fileops.js";
import { Guard } from "./guard.js";
import { registerScriptApi } from "./completion.js";
import { Documents } from "./documents.js";
import { DryRun } from "./dryrun.js";
import { Jobs } from "./jobs.js";
import { Versions } from "./versions.js";
import { showPlan } from "./plan.js";

const layout = document.querySelector(".layout");
const VIEWS = ["editor", "plan", "dryrun", "jobs", "job", "history", "version"];

function showSection(view) {
  for (const name of VIEWS) document.getElementById(`view-${name}`).hidden = name !== view;
}

function wireClone(draft) {
  const input = document.getElementById("clone-url");
  input.value = draft.config.clone_url || "";
  document.getElementById("config-title").textContent = draft.config.title || draft.config.slug;
  document.title = `${draft.config.title || draft.config.slug} · ADE editor`;
  document.getElementById("copy-clone").addEventListener("click", async () => {
    await copyText(input);
    notify("Clone URL copied");
  });
}

/** Leaving the page (a link, closing, reloading) with unsaved text asks first. */
function wireLeaving(files) {
  window.addEventListener("beforeunload", (event) => {
    if (files.anyDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  for (const link of document.querySelectorAll("header a[href]")) {
    link.addEventListener("click", (event) => {
      if (files.anyDirty() && !confirm("You have unsaved changes. Leave this page and lose them?")) event.preventDefault();
    });
  }
}

async function route({ view, arg }, mods) {
  const { files, dryrun, jobs, versions, draft } = mods;
  showSection(view);
  if (view === "editor") {
    if (arg) await files.open(arg);
    else if (files.active) router.go("editor", files.active, { replace: true });
    return;
  }
  document.getElementById(`view-${view}`).querySelector("h1")?.focus();
  if (view === "plan") await showPlan(draft, mods.openAt);
  if (view === "dryrun") await dryrun.show();
  if (view === "jobs") await jobs.showList();
  if (view === "job") await jobs.showJob(arg);
  if (view === "history") await versions.showHistory();
  if (view === "version") await versions.showVersion(arg);
}

async function main() {
  if (!initSession()) return;
  const draft = new Draft(layout.dataset.ws, layout.dataset.config);
  try {
    await draft.loadConfig();
    await Promise.all([draft.refreshVersions(), whoAmI(api)]);
  } catch (err) {
    notify(errorMessages(err).join(" · "), "error");
    return;
  }
  const monaco = await window.monacoReady;
  const files = new Files(monaco, draft);
  let routing = Promise.resolve();
  const openAt = async (path, line, col) => {
    router.go("editor", path);
    await routing;
    files.reveal(line, col);
  };
  const mods = { draft, files, openAt };
  new Guard(monaco, draft, (line, col) => files.reveal(line, col));
  const ops = new FileOps(draft, files, layout.dataset.templates.split(",").filter(Boolean));
  new Tree(draft, { addColumn: () => ops.addColumn(), rename: (p) => ops.rename(p), remove: (p) => ops.remove(p) });
  const documents = new Documents(draft.ws);
  mods.dryrun = new DryRun(draft, documents, files, (path, line) => openAt(path, line));
  mods.jobs = new Jobs(draft, documents);
  mods.versions = new Versions(draft, files);
  wireClone(draft);
  wireLeaving(files);
  // Completion and hover arrive once the description is loaded: say when (tests wait on it).
  registerScriptApi(monaco)
    .then(() => { document.body.dataset.scriptApi = "ready"; })
    .catch(() => notify("Completion is unavailable: the script API could not be loaded.", "error"));
  document.getElementById("rerun-state").addEventListener("click", () => router.go("dryrun"));
  document.getElementById("plan-refresh").addEventListener("click", () => showPlan(draft, openAt).catch((err) => notify(err.message, "error")));

  // A save can change the tree (the manifest) and what changed since live.
  on("saved", () => draft.refresh().catch(() => {}));
  on("route", (r) => {
    routing = routing.then(() => route(r, mods)).catch((err) => notify(errorMessages(err).join(" · "), "error"));
  });
  mods.versions.renderVersions();
  mods.jobs.renderVersions();
  try {
    await draft.refresh();
    await files.restore();
  } catch (err) {
    notify(errorMessages(err).join(" · "), "error");
  }
  router.start();
  await routing;
  window.adeEditor = { draft, files, router, dryrun: mods.dryrun }; // for the browser tests and the console
  document.body.dataset.ready = "true";
}

main();
