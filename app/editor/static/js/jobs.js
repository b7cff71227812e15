// Jobs of this config: submit a published version on a document, follow the list
// (status, phase and rows) without reloading, open one for its report, cancel,
// download the output, report and logs.
import { api, download, errorMessages } from "./api.js";
import { h, notify, formatTime } from "./dom.js";
import { on } from "./bus.js";
import * as router from "./router.js";
import { renderReport } from "./report.js";

const LIVE = new Set(["queued", "running"]);
const POLL_MS = 1000;

function progressText(job) {
  if (job.status === "succeeded") return `${job.metrics?.rows_processed ?? "?"} rows`;
  if (!job.progress) return job.status === "queued" ? "waiting for a worker" : "";
  const rows = job.progress.rows ? ` · ${job.progress.rows} rows` : "";
  return `${job.progress.phase}${rows}`;
}

export class Jobs {
  constructor(draft, documents) {
    this.draft = draft;
    this.documents = documents;
    this.jobs = [];
    this.open = null; // the job shown in the detail view
    this.timer = null;
    this.view = null;
    this.status = document.getElementById("job-status");
    document.getElementById("job-form").addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
    document.getElementById("job-upload").addEventListener("change", (e) => this.documents.upload(e.target, this.status));
    on("versions", () => this.renderVersions());
    on("route", ({ view }) => { this.view = view; if (view !== "jobs" && view !== "job") this.stop(); });
  }

  get path() {
    return `/workspaces/${encodeURIComponent(this.draft.ws)}/jobs`;
  }

  versionLabel(id) {
    const v = this.draft.versions.find((x) => x.id === id);
    return v ? `v${v.semver}` : "(a removed version)";
  }

  renderVersions() {
    const select = document.getElementById("job-version");
    const previous = select.value;
    const usable = this.draft.versions.filter((v) => v.status !== "draft");
    select.replaceChildren(...usable.map((v) => h("option", { value: v.id }, `v${v.semver} (${v.status})`)));
    if (!usable.length) select.append(h("option", { value: "" }, "Nothing published yet"));
    if (previous && usable.some((v) => v.id === previous)) select.value = previous;
    document.getElementById("job-submit").disabled = !usable.length;
  }

  async showList() {
    this.renderVersions();
    await Promise.all([this.documents.load(), this.refresh()]);
  }

  async refresh() {
    const { data } = await api("GET", `${this.path}?config_id=${encodeURIComponent(this.draft.config.id)}`);
    this.jobs = data;
    this.renderList();
    this.schedule(data.some((j) => LIVE.has(j.status)));
  }

  renderList() {
    const body = document.querySelector("#jobs-table tbody");
    body.replaceChildren(...this.jobs.map((job) => h("tr", { class: `job-${job.status}`, dataset: { job: job.id } },
      h("th", { scope: "row" }, h("a", { href: router.urlOf("job", job.id), onclick: (e) => { e.preventDefault(); router.go("job", job.id); } }, job.id.slice(0, 8))),
      h("td", {}, this.versionLabel(job.config_version_id)),
      h("td", {}, this.documents.name(job.input_document_id)),
      h("td", {}, h("span", { class: `badge status-${job.status}` }, job.status)),
      h("td", { class: "progress" }, progressText(job)),
      h("td", {}, formatTime(job.created_at)),
      h("td", {}, LIVE.has(job.status) ? h("button", { type: "button", onclick: () => this.cancel(job.id) }, "Cancel") : null))));
    if (!this.jobs.length) body.append(h("tr", {}, h("td", { colspan: "7", class: "muted" }, "No job of this config yet.")));
  }

  /** Poll while something is queued or running and a jobs view is shown. */
  schedule(live) {
    clearTimeout(this.timer);
    if (!live || (this.view !== "jobs" && this.view !== "job")) return;
    this.timer = setTimeout(() => {
      const again = this.view === "job" ? this.showJob(this.open?.id) : this.refresh();
      again.catch(() => this.schedule(true)); // a failed poll tries again
    }, POLL_MS);
  }

  stop() {
    clearTimeout(this.timer);
  }

  async submit() {
    const json = {
      config_version_id: document.getElementById("job-version").value,
      input_document_id: document.getElementById("job-document").value,
    };
    if (document.getElementById("job-force").checked) json.flags = { force: true };
    if (!json.config_version_id || !json.input_document_id) {
      this.status.textContent = "Choose a published version and a document first.";
      return;
    }
    try {
      const { status, data } = await api("POST", this.path, { json });
      this.status.replaceChildren(status === 200 && data.reused
        ? h("span", { class: "reused" }, `Not run again: ${this.versionLabel(data.config_version_id)} already ran on this document (the same files on the same bytes give the same output), so the earlier job ${data.id.slice(0, 8)} is shown. Tick “Run again” to force a new run.`)
        : `Queued job ${data.id.slice(0, 8)}.`);
      await this.refresh();
    } catch (err) {
      this.status.textContent = errorMessages(err).join(" · ");
    }
  }

  async cancel(id) {
    try {
      await api("POST", `${this.path}/${id}:cancel`);
      notify(`Cancelled job ${id.slice(0, 8)}`);
    } catch (err) {
      notify(`Could not cancel: ${errorMessages(err).join(" · ")}`, "error");
    }
    if (this.view === "job") await this.showJob(id);
    else await this.refresh();
  }

  async showJob(id) {
    const body = document.getElementById("job-body");
    if (!id) return;
    const { data: job } = await api("GET", `${this.path}/${id}`);
    this.open = job;
    await this.documents.load().catch(() => {});
    document.getElementById("job-heading").textContent = `Job ${job.id.slice(0, 8)}`;
    const finished = !LIVE.has(job.status);
    let report = null;
    if (finished && job.status !== "cancelled") {
      report = await api("GET", `${this.path}/${id}/report`, { allow: [404] }).then((r) => (r.status === 200 ? r.data : null));
    }
    const get = (name, file) => h("button", { type: "button", class: "link-button",
      onclick: () => download(`${this.path}/${id}/${name}`, file).catch((err) => notify(`Download failed: ${errorMessages(err).join(" · ")}`, "error")) }, file);
    body.replaceChildren(
      h("dl", { class: "metrics job-meta" },
        h("dt", {}, "status"), h("dd", {}, h("span", { class: `badge status-${job.status}`, id: "job-state" }, job.status)),
        h("dt", {}, "progress"), h("dd", { id: "job-progress" }, progressText(job) || "—"),
        h("dt", {}, "version"), h("dd", {}, this.versionLabel(job.config_version_id)),
        h("dt", {}, "document"), h("dd", {}, this.documents.name(job.input_document_id)),
        h("dt", {}, "attempts"), h("dd", {}, String(job.attempts)),
        h("dt", {}, "submitted"), h("dd", {}, formatTime(job.created_at)),
        h("dt", {}, "finished"), h("dd", {}, formatTime(job.finished_at) || "—")),
      h("p", { class: "row" },
        LIVE.has(job.status) ? h("button", { type: "button", onclick: () => this.cancel(job.id) }, "Cancel job") : null,
        h("button", { type: "button", class: "link-button", onclick: () => router.go("jobs") }, "All jobs")),
      job.error ? h("div", { class: "run-error", role: "alert" }, h("strong", {}, "Error: "), h("code", {}, job.error)) : null,
      finished && job.status !== "cancelled" ? h("p", { class: "downloads row" }, "Download: ",
        job.status === "succeeded" ? get("output", `job-${id.slice(0, 8)}.xlsx`) : null,
        get("report", `job-${id.slice(0, 8)}-report.json`), get("logs", `job-${id.slice(0, 8)}.log`)) : null,
      ...(report ? renderReport(report, { manifest: this.draft.manifest, idPrefix: "job" }) : []),
    );
    this.schedule(!finished);
  }
}
