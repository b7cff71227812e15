// The editor's addresses: every view has its own URL under .../editor/, so Back,
// Forward and reload work and a view can be linked to.
//
//   editor/                     the file editor        editor/files/<path>  a file
//   editor/plan                 the plan               editor/dry-run       dry run
//   editor/jobs                 the jobs list          editor/jobs/<id>     one job
//   editor/history              versions and commits   editor/history/v1.0.2  a version
import { emit } from "./bus.js";
import { encodePath } from "./api.js";

const base = document.querySelector(".layout").dataset.base.replace(/\/+$/, "");
let current = { view: "editor", arg: "" };

/** The view a path names. */
export function parse(pathname = location.pathname) {
  const rest = pathname.startsWith(base) ? pathname.slice(base.length).replace(/^\/+/, "") : "";
  const [head, ...tail] = rest.split("/");
  const arg = tail.map((part) => decodeURIComponent(part)).join("/");
  if (head === "files" && arg) return { view: "editor", arg };
  if (head === "plan") return { view: "plan", arg: "" };
  if (head === "dry-run") return { view: "dryrun", arg: "" };
  if (head === "jobs") return arg ? { view: "job", arg } : { view: "jobs", arg: "" };
  if (head === "history") return arg ? { view: "version", arg } : { view: "history", arg: "" };
  return { view: "editor", arg: "" };
}

/** The path of a view. */
export function urlOf(view, arg = "") {
  const segment = {
    editor: arg ? `files/${encodePath(arg)}` : "",
    plan: "plan",
    dryrun: "dry-run",
    jobs: "jobs",
    job: `jobs/${encodeURIComponent(arg)}`,
    history: "history",
    version: `history/${encodeURIComponent(arg)}`,
  }[view];
  return segment ? `${base}/${segment}` : base;
}

export function currentRoute() {
  return current;
}

/** Show a view: a new history entry (``replace``: this one), then "route". */
export function go(view, arg = "", { replace = false } = {}) {
  const url = urlOf(view, arg);
  if (url !== location.pathname) history[replace ? "replaceState" : "pushState"]({}, "", url);
  current = { view, arg };
  emit("route", current);
}

/** Follow Back and Forward; announce the view of the address the page opened at. */
export function start() {
  window.addEventListener("popstate", () => {
    current = parse();
    emit("route", current);
  });
  current = parse();
  emit("route", current);
}
