// The dry-run view: pick or upload a document, run the draft on it, show the
// report (matrix and output rows per table, findings, metrics, logs) with
// downloads of the run's workbook and report.
//
// Runs go one at a time through ``request``: a save of a draft file re-runs the
// last document (debounced; "Re-run after save", remembered in localStorage), a
// request during a run queues one more, and each report's matrix is compared with
// the previous one on the same document (matrixdiff.js). A header_uncertain
// finding offers "Use row N as header": a merge patch of hints.header_rows, then a
// re-run; a header forced by a hint offers "Let the runner choose the header",
// which removes that hint the same way.
import { api, download, errorMessages } from "./api.js";
import { h, notify } from "./dom.js";
import { on } from "./bus.js";
import { diffReports } from "./matrixdiff.js";
import { renderReport } from "./report.js";

const RERUN_KEY = "ade.dryrun.rerun"; // "0": off; on by default
const DEBOUNCE_MS = 300; // saves closer together than this make one re-run

function storedFlag(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : value === "1";
  } catch {
    return fallback;
  }
}

function storeFlag(key, value) {
  try {
    localStorage.setItem(key, value ? "1" : "0");
  } catch {
    // Storage unavailable: the choice lasts for this page.
  }
}

export class DryRun {
  /** ``openAt(path, line)`` opens a file at a line (from a failing script). */
  constructor(draft, documents, files, openAt) {
    this.draft = draft;
    this.documents = documents;
    this.files = files;
    this.openAt = openAt;
    this.select = document.getElementById("dryrun-document");
    this.status = document.getElementById("dryrun-status");
    this.result = document.getElementById("dryrun-result");
    this.indicator = document.getElementById("rerun-state");
    this.toggle = document.getElementById("dryrun-rerun");
    this.documentKey = `ade.dryrun.document.${draft.config.id}`;
    this.lastDocument = null; // the document of the last dry run (this page)
    this.previous = null; // {documentId, report}: the last report with tables
    this.running = null; // the promise of the run in progress
    this.queued = null; // {documentId, reason} of the one run waiting for it
    this.timer = null;
    this.runs = 0;
    this.toggle.checked = storedFlag(RERUN_KEY, true);
    this.toggle.addEventListener("change", () => {
      storeFlag(RERUN_KEY, this.toggle.checked);
      if (!this.toggle.checked) this.cancelPending();
    });
    document.getElementById("dryrun-form").addEventListener("submit", (e) => { e.preventDefault(); this.request(this.select.value, null); });
    document.getElementById("dryrun-upload").addEventListener("change", (e) => this.documents.upload(e.target, this.status));
    on("saved", ({ path }) => this.saved(path));
    this.setState("idle");
  }

  /** ``idle``, ``waiting`` (a re-run is due) or ``running``: on the result for tests. */
  setState(state) {
    this.result.dataset.state = state;
    this.result.dataset.runs = String(this.runs);
  }

  /** A draft file was saved: re-run the last document after a pause, if asked to. */
  saved(path) {
    const documentId = this.lastDocument || this.storedDocument();
    if (!this.toggle.checked || !documentId) return;
    clearTimeout(this.timer);
    if (!this.running) {
      this.setState("waiting");
      this.showIndicator("Dry run: waiting to re-run…", "waiting");
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.request(documentId, `after saving ${path}`);
    }, DEBOUNCE_MS);
  }

  cancelPending() {
    clearTimeout(this.timer);
    this.timer = null;
    this.queued = null;
    if (!this.running) {
      this.setState("idle");
      this.indicator.hidden = true;
    }
  }

  storedDocument() {
    try {
      return localStorage.getItem(this.documentKey);
    } catch {
      return null;
    }
  }

  /**
   * Run the dry run on ``documentId`` (``reason``: why, for a re-run; null when the
   * user asked). Never two at once: asked during a run, one more run follows it
   * (several requests meanwhile make one, on the newest document).
   */
  request(documentId, reason) {
    if (this.running) {
      this.queued = { documentId, reason };
      this.showIndicator("Dry run: running; another run follows…", "running");
      return this.running;
    }
    this.running = this.runOne(documentId, reason).finally(() => {
      this.running = null;
      const next = this.queued;
      this.queued = null;
      if (next) this.request(next.documentId, next.reason);
      else if (!this.timer) this.setState("idle");
    });
    return this.running;
  }

  async runOne(documentId, reason) {
    this.setState("running");
    this.showIndicator(reason ? "Dry run: re-running…" : "Dry run: running…", "running");
    if (documentId && this.select.value !== documentId) await this.choose(documentId);
    if (reason && this.select.value !== documentId) {
      // Deleted meanwhile: never re-run on another document than the last one.
      this.lastDocument = null;
      try {
        localStorage.removeItem(this.documentKey);
      } catch {
        // Nothing kept.
      }
      this.showIndicator("Dry run: its last document is gone; choose one", "failed");
      return;
    }
    this.current = null;
    await this.run();
    this.runs += 1;
    const report = this.current;
    if (report && reason && this.status.textContent === "Done.") this.status.textContent = `Done (re-run ${reason}).`;
    this.showIndicator(this.indicatorText(report), report?.status === "failed" ? "failed" : "done");
  }

  /** Select ``documentId`` in the form (loading the list if it is not there yet). */
  async choose(documentId) {
    if (![...this.select.options].some((o) => o.value === documentId)) {
      try {
        await this.documents.load();
      } catch {
        // The run below says what is wrong (no document chosen).
      }
    }
    if ([...this.select.options].some((o) => o.value === documentId)) this.select.value = documentId;
  }

  indicatorText(report) {
    if (!report) return "Dry run: could not start";
    if (report.status === "failed" || report.error) return "Dry run: failed";
    const count = this.changes?.count;
    if (count == null) return "Dry run: done";
    return count ? `Dry run: ${count} change${count === 1 ? "" : "s"} in the mapping` : "Dry run: no change in the mapping";
  }

  showIndicator(text, kind) {
    this.indicator.textContent = text;
    this.indicator.dataset.kind = kind;
    this.indicator.hidden = false;
  }

  /**
   * The report's comparison with the previous run on the same document, and the
   * header button's handler; remembers this report (with tables) for the next one.
   */
  reportExtras(documentId, report) {
    this.current = report;
    const failed = report.status === "failed" || Boolean(report.error);
    const before = this.previous?.documentId === documentId ? this.previous.report : null;
    this.changes = failed ? null : diffReports(before, report);
    this.lastDocument = documentId;
    try {
      localStorage.setItem(this.documentKey, documentId);
    } catch {
      // Storage unavailable: re-runs follow this page's last run only.
    }
    if (!failed) this.previous = { documentId, report };
    return {
      changes: this.changes,
      onUseHeader: (finding, button) => this.useHeader(documentId, finding, button),
      onClearHint: (sheet, button) => this.clearHeaderHint(documentId, sheet, button),
    };
  }

  /**
   * "Use row N as header": write the finding's runner-up block to
   * hints.header_rows[sheet] (a key naming the same sheet in another case is
   * replaced), then run the dry run again.
   */
  async useHeader(documentId, finding, button) {
    await this.changeHeaderHint(documentId, button, (hints) => {
      const rows = { [finding.sheet]: finding.alternative_rows };
      for (const key of sameSheetKeys(hints, finding.sheet)) if (key !== finding.sheet) rows[key] = null;
      return { header_rows: rows };
    }, `the header of sheet ${finding.sheet} is row ${finding.alternative}`, "with the new header hint");
  }

  /**
   * "Let the runner choose the header": remove the hint that forced the sheet's
   * header (its hints.header_rows entry, in any case; else hints.header_row, which
   * forces every sheet), then run the dry run again.
   */
  async clearHeaderHint(documentId, sheet, button) {
    await this.changeHeaderHint(documentId, button, (hints) => {
      const keys = sameSheetKeys(hints, sheet);
      if (keys.length) return { header_rows: Object.fromEntries(keys.map((k) => [k, null])) };
      return { header_row: null };
    }, `the runner chooses the header of sheet ${sheet}`, "without the header hint");
  }

  /** Merge-patch ``hints`` with what ``change(currentHints)`` returns (If-Match;
   * read again and retried once on 412), refresh, and run the dry run again. */
  async changeHeaderHint(documentId, button, change, saying, rerunNote) {
    if (button) button.disabled = true;
    const url = `${this.draft.base}/draft/manifest`;
    try {
      for (let attempt = 0; ; attempt += 1) {
        const { data, etag } = await api("GET", url);
        const resp = await api("PATCH", url, {
          json: { hints: change(data.hints || {}) }, headers: { "If-Match": `"${etag}"` }, allow: attempt ? [] : [412],
        });
        if (resp.status !== 412) break; // changed meanwhile: read it again, once
      }
      notify(`The manifest now says: ${saying}`);
      await Promise.all([this.draft.refresh(), this.files.reloadIfClean("manifest.json")]);
    } catch (err) {
      if (button) button.disabled = false;
      notify(`Could not change the header hint: ${errorMessages(err).join(" · ")}`, "error");
      return;
    }
    await this.request(documentId, rerunNote);
  }

  async show() {
    await this.documents.load();
  }

  async run() {
    const documentId = this.select.value;
    const result = document.getElementById("dryrun-result");
    if (!documentId) {
      this.status.textContent = "Choose or upload a document first.";
      return;
    }
    const note = this.files.anyDirty() ? "Note: unsaved changes are not part of the dry run. " : "";
    this.status.textContent = note + "Running…";
    document.getElementById("dryrun-run").disabled = true;
    try {
      // A run still going after a few seconds answers 202: poll its Location.
      const started = await api("POST", `${this.draft.base}/draft:dry-run`, { json: { documentId } });
      const location = started.status === 202 ? started.headers.get("Location") : null;
      let data = started.data;
      while (location && (data.status === "queued" || data.status === "running")) {
        const p = data.progress;
        this.status.textContent = note + (data.status === "queued" ? "Queued…"
          : `Running${p ? ` (${p.phase}${p.rows ? `, ${p.rows} rows` : ""})` : ""}…`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        ({ data } = await api("GET", location));
      }
      this.status.textContent = data.status === "failed" ? "The dry run failed." : "Done.";
      result.replaceChildren(...renderReport(data, {
        manifest: this.draft.manifest, onOpen: this.openAt, downloads: this.downloads(data),
        ...this.reportExtras(documentId, data),
      }));
    } catch (err) {
      this.status.textContent = "";
      result.replaceChildren(h("div", { class: "run-error", role: "alert" }, h("strong", {}, "The dry run could not start"),
        h("ul", {}, ...errorMessages(err).map((m) => h("li", {}, m)))));
    } finally {
      document.getElementById("dryrun-run").disabled = false;
    }
  }

  downloads(run) {
    const links = run.downloads || {};
    const button = (label, url, name) => h("button", {
      type: "button", class: "link-button", disabled: !url,
      onclick: () => download(url, name).catch((err) => notify(`Download failed: ${errorMessages(err).join(" · ")}`, "error")),
    }, label);
    return h("p", { class: "downloads row" }, "Download: ",
      button("Output workbook (.xlsx)", links.output, `dry-run-${run.id}.xlsx`),
      button("Report (.json)", links.report, `dry-run-${run.id}.json`),
      links.output ? null : h("span", { class: "muted" }, "(no workbook: the run failed)"));
  }
}

/** The keys of hints.header_rows that name ``sheet`` (sheet names match in any case). */
function sameSheetKeys(hints, sheet) {
  return Object.keys(hints.header_rows || {}).filter((k) => k.toLowerCase() === String(sheet).toLowerCase());
}
