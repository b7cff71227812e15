// The dry-run view: pick or upload a document, run the draft on it, show the report
// (mapping matrix, findings, metrics, logs) or the run's error.
import { api, ApiError } from "./api.js";
import { h, notify } from "./dom.js";

function fmt(score) {
  return typeof score === "number" ? (Number.isInteger(score) ? String(score) : score.toFixed(2)) : "";
}

export class DryRun {
  constructor(ctx) {
    this.ctx = ctx;
    this.select = document.getElementById("dryrun-document");
    document.getElementById("dryrun-form").addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    document.getElementById("dryrun-upload").addEventListener("change", (e) => this.upload(e.target));
  }

  get docsPath() {
    return `/workspaces/${encodeURIComponent(this.ctx.ws)}/documents`;
  }

  async loadDocuments(selectId) {
    const { data } = await api("GET", this.docsPath);
    const docs = Array.isArray(data) ? data : data.documents || [];
    this.select.replaceChildren(...docs.map((d) => h("option", { value: d.id }, `${d.filename} (${Math.ceil((d.size || 0) / 1024)} KiB)`)));
    if (!docs.length) this.select.append(h("option", { value: "" }, "No document yet: upload one"));
    if (selectId) this.select.value = selectId;
  }

  async upload(input) {
    const file = input.files[0];
    if (!file) return;
    const status = document.getElementById("dryrun-status");
    status.textContent = `Uploading ${file.name}…`;
    const body = new FormData();
    body.append("file", file);
    try {
      const { data } = await api("POST", this.docsPath, { body });
      await this.loadDocuments(data.id);
      status.textContent = `Uploaded ${file.name}`;
    } catch (err) {
      status.textContent = "";
      notify(`Upload failed: ${err.message}`, "error");
    } finally {
      input.value = "";
    }
  }

  async run() {
    const documentId = this.select.value;
    const status = document.getElementById("dryrun-status");
    const result = document.getElementById("dryrun-result");
    if (!documentId) {
      status.textContent = "Choose or upload a document first.";
      return;
    }
    if (this.ctx.files_?.anyDirty()) status.textContent = "Note: unsaved changes are not part of the dry run. ";
    status.textContent += "Running…";
    document.getElementById("dryrun-run").disabled = true;
    try {
      const { data } = await api("POST", `${this.ctx.base}/draft:dry-run`, { json: { documentId } });
      status.textContent = data.status === "failed" ? "The dry run failed." : "Done.";
      result.replaceChildren(...renderReport(data, this.ctx.manifest || {}, (path, line) => this.ctx.openAt({ path, line })));
    } catch (err) {
      status.textContent = "";
      const messages = err instanceof ApiError ? err.messages() : [String(err)];
      result.replaceChildren(h("div", { class: "run-error", role: "alert" }, h("strong", {}, "The dry run could not start"), h("ul", {}, ...messages.map((m) => h("li", {}, m)))));
    } finally {
      document.getElementById("dryrun-run").disabled = false;
    }
  }
}

/** The report as DOM nodes (exported for reuse by a job report view). */
export function renderReport(report, manifest, onOpen = null) {
  const out = [];
  const failed = report.status === "failed" || Boolean(report.error);
  out.push(h("p", { class: `run-status ${failed ? "failed" : "succeeded"}`, id: "dryrun-outcome" },
    failed ? "Failed" : "Succeeded"));
  if (report.error) {
    // "config script error: columns/email.py:51 in detect_x(): ValueError: boom"
    const where = report.error.match(/([\w./-]+\.py):(\d+)/);
    out.push(h("div", { class: "run-error", role: "alert", id: "dryrun-error" },
      h("strong", {}, "Error: "), h("code", {}, report.error),
      where && onOpen ? h("div", {}, h("button", { type: "button", class: "link-button", onclick: () => onOpen(where[1], Number(where[2])) },
        `Open ${where[1]} at line ${where[2]}`)) : null,
      h("div", { class: "muted" }, "The full traceback is in the logs below.")));
  }
  const minScore = typeof report.min_score === "number" ? report.min_score : (manifest.min_score ?? 1.0);
  for (const [i, table] of (report.tables || []).entries()) out.push(renderTable(table, i, manifest, minScore));
  out.push(renderFindings(report.findings || []));
  out.push(renderMetrics(report.metrics || {}));
  out.push(h("section", { "aria-labelledby": "logs-h" }, h("h2", { id: "logs-h" }, "Logs"),
    h("pre", { class: "logs", tabindex: "0" }, (report.logs || []).map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") || "(no log lines)")));
  return out;
}

function fieldsOf(table, manifest) {
  const keys = [...(manifest.columns || [])].sort((a, b) => (a.ordinal || 0) - (b.ordinal || 0)).map((c) => c.key);
  for (const col of table.columns || []) {
    for (const key of Object.keys(col.scores || {})) if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

function renderTable(table, index, manifest, minScore) {
  const fields = fieldsOf(table, manifest);
  const labels = Object.fromEntries((manifest.columns || []).map((c) => [c.key, c.label || c.key]));
  const id = `matrix-${index}`;
  const caption = `${table.sheet || "Sheet"}${table.range ? " " + table.range : ""} · header row ${table.header_row ?? "?"} · ${table.rows ?? 0} rows`;
  const head = h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Header"),
    ...fields.map((f) => h("th", { scope: "col", title: f }, labels[f] || f)), h("th", { scope: "col" }, "Mapped to"));
  const rows = (table.columns || []).map((col) => h("tr", { dataset: { column: col.column || "" } },
    h("th", { scope: "row" }, col.column || ""),
    h("td", { class: "header-text" }, col.header ?? ""),
    ...fields.map((f) => {
      const score = col.scores?.[f];
      const winner = col.field === f;
      const below = typeof score !== "number" || score < minScore;
      const cls = ["score", winner ? "winner" : "", below && !winner ? "below" : ""].filter(Boolean).join(" ");
      return h("td", { class: cls, dataset: { field: f }, title: winner ? `${f}: mapped (score ${fmt(score)})` : `${f}: ${fmt(score) || "0"}${below ? " (below min_score)" : ""}` },
        fmt(score), winner ? h("span", { class: "visually-hidden" }, " (winner)") : null);
    }),
    h("td", { class: col.field ? "mapped" : "unmapped muted" }, col.field ? labels[col.field] || col.field : "—")));
  const unmapped = table.unmapped_fields?.length
    ? h("p", { class: "muted" }, `Fields no column maps to: ${table.unmapped_fields.map((f) => labels[f] || f).join(", ")}`) : null;
  return h("section", { class: "matrix-section", "aria-labelledby": `${id}-h` },
    h("h2", { id: `${id}-h` }, caption),
    h("div", { class: "scroll-x" }, h("table", { class: "grid matrix", id },
      h("caption", { class: "visually-hidden" }, `Mapping scores: physical columns by fields; min_score ${minScore}`),
      h("thead", {}, head), h("tbody", {}, ...rows))),
    h("p", { class: "legend muted" }, h("span", { class: "swatch winner", "aria-hidden": "true" }), " mapped (winner) ",
      h("span", { class: "swatch below", "aria-hidden": "true" }), ` below min_score (${minScore})`),
    unmapped);
}

function renderFindings(findings) {
  const body = findings.length ? h("table", { class: "grid findings" },
    h("thead", {}, h("tr", {}, ...["Sheet", "Row", "Field", "Code", "Severity", "Message"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...findings.map((f) => h("tr", { class: `sev-${f.severity || "error"}` },
      h("td", {}, f.sheet ?? ""), h("td", {}, f.row ?? ""), h("td", {}, f.field ?? ""),
      h("td", {}, h("code", {}, f.code ?? "")), h("td", {}, f.severity ?? ""), h("td", {}, f.message ?? "")))))
    : h("p", { class: "muted" }, "No findings.");
  return h("section", { "aria-labelledby": "findings-h" }, h("h2", { id: "findings-h" }, `Findings (${findings.length})`), body);
}

function renderMetrics(metrics) {
  const items = Object.entries(metrics).flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]);
  return h("section", { "aria-labelledby": "metrics-h" }, h("h2", { id: "metrics-h" }, "Metrics"), h("dl", { class: "metrics" }, ...items));
}
