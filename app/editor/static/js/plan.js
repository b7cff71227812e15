// The plan view: phases, enabled columns in execution order, the package check's
// findings (each a link to its file and line).
import { api } from "./api.js";
import { h } from "./dom.js";

export async function showPlan(draft, openAt) {
  const body = document.getElementById("plan-body");
  const { data } = await api("POST", `${draft.base}/draft:plan`);
  const problems = [...(data.errors || []), ...(data.warnings || [])];
  body.replaceChildren(
    h("h2", {}, "Phases"), h("ol", { class: "phases" }, ...(data.phases || []).map((p) => h("li", {}, p))),
    h("h2", {}, "Columns in execution order"),
    h("ol", {}, ...(data.dag || []).map((c) => h("li", {}, h("code", {}, c.key || String(c)),
      c.depends_on?.length ? ` (after ${c.depends_on.join(", ")})` : ""))),
    h("h2", {}, `Warnings (${problems.length})`),
    problems.length ? h("ul", { class: "warnings-list" }, ...problems.map((w) => h("li", { class: `sev-${w.severity}` },
      w.path ? h("button", { type: "button", class: "link-button", onclick: () => openAt(w.path, w.line, w.col) }, `${w.path}${w.line ? ":" + w.line : ""}`) : null,
      " ", w.code ? h("code", {}, w.code) : null, " ", w.where ? `${w.where}: ${w.message}` : w.message))) : h("p", { class: "muted" }, "No warnings."),
  );
}
