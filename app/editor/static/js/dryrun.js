// The dry-run view: pick or upload a document, run the draft on it, show the
// report (matrix and output rows per table, findings, metrics, logs) with
// downloads of the run's workbook and report.
import { api, download, errorMessages } from "./api.js";
import { h, notify } from "./dom.js";
import { renderReport } from "./report.js";

export class DryRun {
  /** ``openAt(path, line)`` opens a file at a line (from a failing script). */
  constructor(draft, documents, files, openAt) {
    this.draft = draft;
    this.documents = documents;
    this.files = files;
    this.openAt = openAt;
    this.select = document.getElementById("dryrun-document");
    this.status = document.getElementById("dryrun-status");
    document.getElementById("dryrun-form").addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    document.getElementById("dryrun-upload").addEventListener("change", (e) => this.documents.upload(e.target, this.status));
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
