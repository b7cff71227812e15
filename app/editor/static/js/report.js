// A run's report as DOM nodes (dry runs and jobs): outcome, per table the mapping
// matrix and the first output rows, findings, metrics, logs.
import { h } from "./dom.js";

function fmt(score) {
  return typeof score === "number" ? (Number.isInteger(score) ? String(score) : score.toFixed(2)) : "";
}

/**
 * ``options``: {manifest, onOpen(path, line), downloads: [nodes], idPrefix,
 * changes (matrixdiff.diffReports against the previous run, or null),
 * onUseHeader(finding) (offers "Use row N as header" on a header_uncertain finding),
 * onClearHint(sheet) (offers to remove the hint that forced a sheet's header)}.
 */
export function renderReport(report, { manifest = {}, onOpen = null, downloads = null, idPrefix = "dryrun", changes = null, onUseHeader = null, onClearHint = null } = {}) {
  const out = [];
  const failed = report.status === "failed" || Boolean(report.error);
  out.push(h("p", { class: `run-status ${failed ? "failed" : "succeeded"}`, id: `${idPrefix}-outcome` }, failed ? "Failed" : "Succeeded"));
  if (changes) out.push(renderChangeSummary(changes, idPrefix));
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
  const uncertain = uncertainByTable(report);
  for (const [i, table] of (report.tables || []).entries()) {
    if (!table.rows && !previews.has(i)) {
      if (!shown.has(`${table.sheet}:${table.header_rows?.[0]}`)) out.push(renderDataless(table));
      continue;
    }
    const extra = { changes: changes?.tables[i] || null, uncertain: uncertain.get(i) || null, onUseHeader, onClearHint };
    out.push(renderTable(table, i, manifest, minScore, previews.get(i), report.preview?.columns || [], idPrefix === "dryrun" ? "" : `${idPrefix}-`, extra));
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

function renderTable(table, index, manifest, minScore, preview, columns, prefix, { changes = null, uncertain = null, onUseHeader = null, onClearHint = null } = {}) {
  const fields = fieldsOf(table, manifest);
  const labels = Object.fromEntries((manifest.columns || []).map((c) => [c.key, c.label || c.key]));
  for (const c of columns) labels[c.key] = labels[c.key] || c.label;
  const id = `${prefix}matrix-${index}`;
  const caption = `${table.sheet || "Sheet"}${table.range ? " " + table.range : ""} · header row ${table.header_row ?? "?"} · ${table.rows ?? 0} rows`;
  const marks = changeMarks(changes);
  const head = h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Header"),
    ...fields.map((f) => (marks.newFields.has(f)
      ? h("th", { scope: "col", class: "new-field", title: `${f}: new since the previous run` }, labels[f] || f, h("span", { class: "visually-hidden" }, " (new)"))
      : h("th", { scope: "col", title: f }, labels[f] || f))),
    h("th", { scope: "col" }, "Mapped to"));
  const rows = (table.columns || []).map((col) => {
    const isNew = marks.newColumns.has(col.column);
    const mapped = marks.mapped.get(col.column);
    return h("tr", { class: isNew ? "new-column" : null, dataset: { column: col.column || "" } },
      h("th", { scope: "row", title: isNew ? `${col.column}: new since the previous run` : null }, col.column || "", isNew ? h("span", { class: "visually-hidden" }, " (new)") : null),
      h("td", { class: "header-text" }, col.header ?? ""),
      ...fields.map((f) => scoreCell(col, f, minScore, marks.cells.get(`${col.column}\u0000${f}`))),
      h("td", {
        class: [col.field ? "mapped" : "unmapped muted", mapped ? "changed" : ""].filter(Boolean).join(" "),
        title: mapped ? `was ${mapped.was ? labels[mapped.was] || mapped.was : "not mapped"}` : null,
      }, col.field ? labels[col.field] || col.field : "—"));
  });
  const unmapped = table.unmapped_fields?.length
    ? h("p", { class: "muted" }, `Fields no column maps to: ${table.unmapped_fields.map((f) => labels[f] || f).join(", ")}`) : null;
  return h("section", { class: `matrix-section${changes?.isNew ? " new-table" : ""}`, "aria-labelledby": `${id}-h`, dataset: { table: index } },
    h("h2", { id: `${id}-h` }, caption, changes?.isNew ? h("span", { class: "badge new" }, " new since the previous run") : null),
    preview?.forced_header ? renderForced(table, manifest, `${prefix}${index}`, onClearHint) : null,
    uncertain ? renderUncertain(uncertain, `${prefix}${index}`, onUseHeader) : null,
    preview?.skipped_above?.length ? renderSkipped(preview.skipped_above, `${prefix}${index}`) : null,
    h("div", { class: "side-by-side" },
      h("div", { class: "scroll-x" },
        h("h3", {}, "Mapping"),
        h("table", { class: "grid matrix", id },
          h("caption", { class: "visually-hidden" }, `Mapping scores: physical columns by fields; min_score ${minScore}`),
          h("thead", {}, head), h("tbody", {}, ...rows)),
        h("p", { class: "legend muted" }, h("span", { class: "swatch winner", "aria-hidden": "true" }), " mapped (winner) ",
          h("span", { class: "swatch below", "aria-hidden": "true" }), ` below min_score (${minScore})`,
          changes ? [" ", h("span", { class: "swatch changed", "aria-hidden": "true" }), " changed since the previous run"] : null),
        changes ? renderRemoved(changes, labels, `${prefix}${index}`) : null,
        unmapped),
      preview ? renderPreview(preview, columns, `${prefix}${index}`) : null));
}

/** A table's changes as lookups: cells by "column\0field", mapped by column. */
function changeMarks(changes) {
  return {
    cells: new Map((changes?.cells || []).map((c) => [`${c.column}\u0000${c.field}`, c])),
    mapped: new Map((changes?.mapped || []).map((m) => [m.column, m])),
    newColumns: new Set(changes?.newColumns || []),
    newFields: new Set(changes?.newFields || []),
  };
}

function scoreCell(col, f, minScore, change) {
  const score = col.scores?.[f];
  const winner = col.field === f;
  const below = typeof score !== "number" || score < minScore;
  const cls = ["score", winner ? "winner" : "", below && !winner ? "below" : "", change ? "changed" : ""].filter(Boolean).join(" ");
  let title = winner ? `${f}: mapped (score ${fmt(score)})` : `${f}: ${fmt(score) || "0"}${below ? " (below min_score)" : ""}`;
  if (change) title = `${title}; ${wasText(change)}`;
  return h("td", { class: cls, dataset: { field: f }, title },
    fmt(score), winner ? h("span", { class: "visually-hidden" }, " (winner)") : null,
    change ? h("span", { class: "visually-hidden" }, ` (changed: ${wasText(change)})`) : null);
}

/** "was 0.42", "was 0.42, the winner", "was 2.71, not the winner". */
function wasText(change) {
  const was = `was ${fmt(change.was) || "0"}`;
  if (change.wasWinner === change.isWinner) return was;
  return `${was}, ${change.wasWinner ? "the winner" : "not the winner"}`;
}

function renderRemoved(changes, labels, index) {
  const parts = [
    ...changes.removedColumns.map((c) => `column ${c.column}${c.header ? ` (${c.header})` : ""}`),
    ...changes.removedFields.map((f) => `field ${labels[f] || f}`),
  ];
  return parts.length ? h("p", { class: "removed", id: `removed-${index}` }, `Gone since the previous run: ${parts.join(", ")}`) : null;
}

function renderChangeSummary(changes, idPrefix) {
  const tables = Object.values(changes.tables);
  const count = (key) => tables.reduce((n, t) => n + t[key].length, 0);
  const parts = [
    [count("cells"), "cell", "cells", "changed"],
    [tables.filter((t) => t.isNew).length, "new table", "new tables", ""],
    [changes.removedTables.length, "table gone", "tables gone", ""],
    [count("newColumns") + count("newFields"), "new column", "new columns", ""],
    [count("removedColumns") + count("removedFields"), "column gone", "columns gone", ""],
  ].filter(([n]) => n > 0).map(([n, one, many, verb]) => `${n} ${n === 1 ? one : many}${verb ? " " + verb : ""}`);
  const text = parts.length ? `Since the previous run: ${parts.join(", ")}.` : "Since the previous run: no change in the mapping.";
  return h("p", { class: `changes-summary${parts.length ? " has-changes" : ""}`, id: `${idPrefix}-changes`, dataset: { count: String(changes.count) } }, text);
}

function rowsText(rows) {
  if (!rows) return "?";
  return rows[0] === rows[1] ? `row ${rows[1]}` : `rows ${rows[0]}–${rows[1]}`;
}

/** The hint that forced a sheet's header, as the runner picks it (the sheet's own wins). */
function hintName(manifest, sheet) {
  const rows = manifest.hints?.header_rows || {};
  const key = Object.keys(rows).find((k) => k.toLowerCase() === String(sheet).toLowerCase());
  return key !== undefined ? `hints.header_rows[${JSON.stringify(key)}]` : "hints.header_row";
}

/** header_uncertain findings by the index of the table they are about. */
function uncertainByTable(report) {
  const out = new Map();
  const tables = report.tables || [];
  for (const finding of report.findings || []) {
    if (finding.code !== "header_uncertain") continue;
    const i = tables.findIndex((t, j) => !out.has(j) && t.rows && t.sheet === finding.sheet && (t.header_row ?? null) === (finding.row ?? null));
    if (i >= 0) out.set(i, finding);
  }
  return out;
}

function renderForced(table, manifest, index, onClearHint) {
  const hint = hintName(manifest, table.sheet);
  const button = onClearHint ? h("button", {
    type: "button", class: "clear-hint",
    title: `Removes ${hint} from the draft manifest, then runs the dry run again`,
    onclick: (event) => onClearHint(table.sheet, event.currentTarget),
  }, "Let the runner choose the header") : null;
  return h("div", { class: "forced", id: `forced-${index}`, role: "note" },
    h("p", {}, `The header is ${rowsText(table.header_rows)} because the manifest says so (${hint}); the heuristic was not asked.`),
    button ? h("div", { class: "row" }, button, h("span", { class: "muted" }, ` (removes ${hint} from the draft manifest)`)) : null);
}

function renderUncertain(finding, index, onUseHeader) {
  const rows = Array.isArray(finding.alternative_rows) ? finding.alternative_rows : null;
  const value = rows ? JSON.stringify(rows) : "";
  const hint = `hints.header_rows[${JSON.stringify(finding.sheet)}] = ${value}`;
  const button = rows && finding.alternative != null && onUseHeader
    ? h("button", {
      type: "button", class: "use-header", title: `Writes ${hint} into the draft manifest, then runs the dry run again`,
      onclick: (event) => onUseHeader(finding, event.currentTarget),
    }, `Use row ${finding.alternative} as header`) : null;
  return h("div", { class: "uncertain", id: `uncertain-${index}`, role: "note" },
    h("strong", {}, "The header is uncertain: "), finding.message || "",
    button ? h("div", { class: "row" }, button, h("span", { class: "muted" }, ` (writes ${hint} in the draft manifest)`)) : null);
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
