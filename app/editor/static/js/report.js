// A run's report as DOM nodes (dry runs and jobs): outcome, per table the mapping
// matrix and the first output rows, findings, metrics, logs.
import { h } from "./dom.js";

function fmt(score) {
  return typeof score === "number" ? (Number.isInteger(score) ? String(score) : score.toFixed(2)) : "";
}

/** ``options``: {manifest, onOpen(path, line), downloads: [nodes], idPrefix}. */
export function renderReport(report, { manifest = {}, onOpen = null, downloads = null, idPrefix = "dryrun" } = {}) {
  const out = [];
  const failed = report.status === "failed" || Boolean(report.error);
  out.push(h("p", { class: `run-status ${failed ? "failed" : "succeeded"}`, id: `${idPrefix}-outcome` }, failed ? "Failed" : "Succeeded"));
  if (downloads) out.push(downloads);
  if (report.error) {
    // "config script error: columns/email.py:51 in detect_x(): ValueError: boom"
    const where = report.error.match(/([\w./-]+\.py):(\d+)/);
    out.push(h("div", { class: "run-error", role: "alert", id: `${idPrefix}-error` },
      h("strong", {}, "Error: "), h("code", {}, report.error),
      where && onOpen ? h("div", {}, h("button", { type: "button", class: "link-button", onclick: () => onOpen(where[1], Number(where[2])) },
        `Open ${where[1]} at line ${where[2]}`)) : null,
      h("div", { class: "muted" }, "The full traceback is in the logs below.")));
  }
  const minScore = typeof report.min_score === "number" ? report.min_score : (manifest.min_score ?? 1.0);
  const previews = new Map((report.preview?.tables || []).map((p) => [p.table, p]));
  // Titles and notes are shown above the table they precede; others get a line.
  const shown = new Set([...previews.values()].flatMap((p) => (p.skipped_above || []).map((s) => `${p.sheet}:${s.rows[0]}`)));
  for (const [i, table] of (report.tables || []).entries()) {
    if (!table.rows && !previews.has(i)) {
      if (!shown.has(`${table.sheet}:${table.header_rows?.[0]}`)) out.push(renderDataless(table));
      continue;
    }
    out.push(renderTable(table, i, manifest, minScore, previews.get(i), report.preview?.columns || [], idPrefix === "dryrun" ? "" : `${idPrefix}-`));
  }
  out.push(renderFindings(report.findings || [], idPrefix));
  out.push(renderMetrics(report.metrics || {}, idPrefix));
  out.push(h("section", { "aria-labelledby": `${idPrefix}-logs-h` }, h("h2", { id: `${idPrefix}-logs-h` }, "Logs"),
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

function renderTable(table, index, manifest, minScore, preview, columns, prefix) {
  const fields = fieldsOf(table, manifest);
  const labels = Object.fromEntries((manifest.columns || []).map((c) => [c.key, c.label || c.key]));
  for (const c of columns) labels[c.key] = labels[c.key] || c.label;
  const id = `${prefix}matrix-${index}`;
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
  return h("section", { class: "matrix-section", "aria-labelledby": `${id}-h`, dataset: { table: index } },
    h("h2", { id: `${id}-h` }, caption),
    preview?.forced_header ? h("p", { class: "forced", id: `${prefix}forced-${index}` },
      `The header is row ${table.header_row} because the manifest says so (hints.header_row); the heuristic was not asked.`) : null,
    preview?.skipped_above?.length ? renderSkipped(preview.skipped_above, `${prefix}${index}`) : null,
    h("div", { class: "side-by-side" },
      h("div", { class: "scroll-x" },
        h("h3", {}, "Mapping"),
        h("table", { class: "grid matrix", id },
          h("caption", { class: "visually-hidden" }, `Mapping scores: physical columns by fields; min_score ${minScore}`),
          h("thead", {}, head), h("tbody", {}, ...rows)),
        h("p", { class: "legend muted" }, h("span", { class: "swatch winner", "aria-hidden": "true" }), " mapped (winner) ",
          h("span", { class: "swatch below", "aria-hidden": "true" }), ` below min_score (${minScore})`),
        unmapped),
      preview ? renderPreview(preview, columns, `${prefix}${index}`) : null));
}

function renderSkipped(skipped, index) {
  return h("div", { class: "skipped", id: `skipped-${index}` },
    h("strong", {}, "Above the header, not data: "),
    h("ul", {}, ...skipped.map((s) => h("li", {}, `row${s.rows[0] === s.rows[1] ? "" : "s"} ${s.rows[0] === s.rows[1] ? s.rows[0] : s.rows.join("–")}: `, h("q", {}, s.text || "(empty)")))));
}

function renderPreview(preview, columns, index) {
  const head = h("tr", {}, h("th", { scope: "col" }, "Row"), ...columns.map((c) => h("th", { scope: "col", title: c.key }, c.label)));
  const rows = preview.rows.map((r) => {
    const rowIssues = r.issues?.[""] || [];
    return h("tr", { class: rowIssues.length ? "issue-row" : "", title: rowIssues.join("\n") || null },
      h("th", { scope: "row" }, String(r.row)),
      ...r.values.map((v, j) => {
        const issues = r.issues?.[columns[j].key] || [];
        return h("td", { class: issues.length ? "issue" : (v === null ? "empty" : ""), title: issues.join("\n") || null, dataset: { field: columns[j].key } },
          v === null ? "" : String(v), issues.length ? h("span", { class: "issue-text" }, issues.join("; ")) : null);
      }));
  });
  const more = preview.total_rows > preview.rows.length ? `first ${preview.rows.length} of ${preview.total_rows} rows` : `${preview.total_rows} rows`;
  return h("div", { class: "scroll-x preview" },
    h("h3", {}, `Output (${more})`),
    h("table", { class: "grid output", id: `output-${index}` }, h("thead", {}, head), h("tbody", {}, ...rows)));
}

function renderDataless(table) {
  const rows = table.header_rows ? table.header_rows.join("–") : "?";
  const text = (table.columns || []).map((c) => c.header).filter(Boolean).join(" · ");
  return h("p", { class: "muted dataless" }, `${table.sheet} rows ${rows} (${table.range}): no data rows — `, h("q", {}, text));
}

function renderFindings(findings, idPrefix) {
  const body = findings.length ? h("table", { class: "grid findings" },
    h("thead", {}, h("tr", {}, ...["Sheet", "Row", "Field", "Code", "Severity", "Message"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...findings.map((f) => h("tr", { class: `sev-${f.severity || "error"}`, dataset: { code: f.code || "" } },
      h("td", {}, f.sheet ?? ""), h("td", {}, f.row ?? ""), h("td", {}, f.field ?? ""),
      h("td", {}, h("code", {}, f.code ?? "")), h("td", {}, f.severity ?? ""),
      h("td", {}, f.message ?? "", extraOf(f))))))
    : h("p", { class: "muted" }, "No findings.");
  return h("section", { "aria-labelledby": `${idPrefix}-findings-h` }, h("h2", { id: `${idPrefix}-findings-h` }, `Findings (${findings.length})`), body);
}

/** Keys a finding carries beyond the usual six (a new finding code's details). */
function extraOf(finding) {
  const known = new Set(["sheet", "row", "field", "code", "severity", "message"]);
  const extra = Object.entries(finding).filter(([k, v]) => !known.has(k) && v !== null && v !== undefined);
  return extra.length ? h("span", { class: "muted finding-extra" }, ` (${extra.map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ")})`) : null;
}

function renderMetrics(metrics, idPrefix) {
  const items = Object.entries(metrics).flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]);
  return h("section", { "aria-labelledby": `${idPrefix}-metrics-h` }, h("h2", { id: `${idPrefix}-metrics-h` }, "Metrics"), h("dl", { class: "metrics" }, ...items));
}
