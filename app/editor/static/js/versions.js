// Publish (with the diff against the live version and the plan's warnings before
// the button), Revert (saying exactly what the API will do, or why it cannot),
// History (versions with their first publish time, draft commits) and a version's
// page (its diff against the draft).
import { api, errorMessages } from "./api.js";
import { h, notify, dialog, formatTime, showError } from "./dom.js";
import { on } from "./bus.js";
import * as router from "./router.js";

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The next patch after the newest version; a pre-release suggests its release. */
export function suggestNext(versions) {
  const latest = versions.find((v) => v.semver && SEMVER.test(v.semver));
  if (!latest) return "1.0.0";
  const [, major, minor, patch, pre] = latest.semver.match(SEMVER);
  return pre ? `${major}.${minor}.${patch}` : `${major}.${minor}.${Number(patch) + 1}`;
}

function label(v) {
  return v.semver ? `v${v.semver}` : "draft";
}

function diffSummary(files) {
  const plus = files.reduce((n, f) => n + (f.additions || 0), 0);
  const minus = files.reduce((n, f) => n + (f.deletions || 0), 0);
  return { plus, minus, text: `${files.length} file${files.length === 1 ? "" : "s"} changed, +${plus} −${minus}` };
}

export class Versions {
  constructor(draft, files) {
    this.draft = draft;
    this.files = files;
    this.publishDialog = dialog("publish-dialog");
    this.revertDialog = dialog("revert-dialog");
    document.getElementById("open-publish").addEventListener("click", () => this.openPublish());
    document.getElementById("open-revert").addEventListener("click", () => this.openRevert());
    document.getElementById("publish-form").addEventListener("submit", (e) => this.publish(e));
    document.getElementById("revert-form").addEventListener("submit", (e) => this.revert(e));
    document.getElementById("diff-from").addEventListener("change", (e) => {
      const v = this.draft.versions.find((x) => x.id === e.target.value);
      if (v) router.go("version", label(v));
    });
    on("versions", () => this.renderVersions());
  }

  /** Why Revert cannot run now, or null. */
  revertBlocked() {
    const live = this.draft.published;
    if (!live) return "Nothing is published, so there is nothing to revert.";
    if (!this.draft.earlier.length) return `v${live.semver} is the first version: there is no earlier version to go back to.`;
    return null;
  }

  renderVersions() {
    const versions = this.draft.versions;
    const live = this.draft.published;
    document.querySelector("#versions-table tbody").replaceChildren(...versions.map((v) => h("tr", { class: `status-${v.status}`, dataset: { version: v.semver || "draft" } },
      h("th", { scope: "row" }, v.semver ? h("a", { href: router.urlOf("version", label(v)), onclick: (e) => { e.preventDefault(); router.go("version", label(v)); } }, label(v)) : "draft"),
      h("td", {}, h("span", { class: `badge ${v.status === "published" ? "ok" : ""}` }, v.status)),
      h("td", {}, v.message || ""),
      h("td", { class: "published-at" }, formatTime(v.published_at)),
      h("td", {}, h("code", { title: v.files_hash || "" }, (v.files_hash || "").slice(0, 10))),
      h("td", {}, v.status === "draft" ? "" : h("button", { type: "button", onclick: () => router.go("version", label(v)) }, `Diff ${label(v)} → draft`)))));
    const select = document.getElementById("diff-from");
    select.replaceChildren(...versions.filter((v) => v.status !== "draft").map((v) => h("option", { value: v.id }, `${label(v)} (${v.status})`)));
    const badge = document.getElementById("published-badge");
    badge.textContent = live ? `live: v${live.semver}` : "not published";
    badge.classList.toggle("ok", Boolean(live));
    const blocked = this.revertBlocked();
    const revert = document.getElementById("open-revert");
    revert.disabled = Boolean(blocked);
    revert.title = blocked || `Make v${this.draft.earlier[0]?.semver} live again`;
    document.getElementById("revert-reason").textContent = blocked || "";
    document.getElementById("revert-explain").textContent = blocked
      ? `Revert is not available: ${blocked}`
      : `Revert makes v${this.draft.earlier[0].semver} live again and deprecates v${live.semver}.`;
  }

  async showHistory() {
    await this.draft.refreshVersions();
    const { data } = await api("GET", `${this.draft.base}/history`);
    document.getElementById("commit-list").replaceChildren(...data.map((c) => h("li", {},
      h("code", {}, (c.sha || "").slice(0, 8)), " ",
      h("strong", { title: (c.message || "").trimEnd() }, (c.message || "").split("\n")[0]),
      h("div", { class: "muted" }, `${c.author?.name || ""} · ${formatTime(c.time)}`, c.paths?.length ? ` · ${c.paths.join(", ")}` : ""))));
  }

  /** A version's page (``arg`` is ``v1.0.2``): what it is, and its diff to the draft. */
  async showVersion(arg) {
    if (!this.draft.versions.length) await this.draft.refreshVersions();
    const v = this.draft.versions.find((x) => label(x) === arg);
    const meta = document.getElementById("version-meta");
    const body = document.getElementById("diff-body");
    document.getElementById("version-heading").textContent = v ? `Version ${label(v)}` : `Version ${arg}`;
    if (!v) {
      meta.replaceChildren(h("p", { class: "error" }, `There is no version ${arg} of this config.`));
      body.replaceChildren();
      return;
    }
    document.getElementById("diff-from").value = v.id;
    meta.replaceChildren(h("dl", { class: "metrics" },
      h("dt", {}, "status"), h("dd", {}, v.status),
      h("dt", {}, "message"), h("dd", {}, v.message || "—"),
      h("dt", {}, "first published"), h("dd", {}, formatTime(v.published_at)),
      h("dt", {}, "by"), h("dd", {}, v.created_by || "—"),
      h("dt", {}, "files hash"), h("dd", {}, h("code", {}, v.files_hash || ""))));
    const data = await this.draft.diff(v.id);
    const files = data.files || [];
    if (!files.length) {
      body.replaceChildren(h("p", { class: "muted" }, "No differences: the draft matches this version."));
      return;
    }
    body.replaceChildren(h("h2", {}, `Draft compared with ${label(v)}: ${diffSummary(files).text}`),
      ...files.map((f) => h("section", { class: "diff-file" },
        h("h3", {}, h("span", { class: `badge diff-${f.status}` }, f.status), " ", f.path, h("span", { class: "muted" }, ` +${f.additions} −${f.deletions}`)),
        h("pre", { class: "patch", tabindex: "0", "aria-label": `Changes in ${f.path}` }, ...patchLines(f.patch || "")))));
  }

  async openPublish() {
    document.getElementById("publish-semver").value = suggestNext(this.draft.versions);
    document.getElementById("publish-message").value = "";
    const summary = document.getElementById("publish-summary");
    summary.replaceChildren(h("p", { class: "muted" }, "Comparing the draft with the live version…"));
    this.publishDialog.open_();
    document.getElementById("publish-semver").select();
    try {
      summary.replaceChildren(...await this.publishSummary());
    } catch (err) {
      summary.replaceChildren(h("p", { class: "error" }, `Could not load what would be published: ${errorMessages(err).join(" · ")}`));
    }
  }

  /** What a publish would change (files, lines ±) and the plan's findings. */
  async publishSummary() {
    const live = this.draft.published;
    const [diff, plan] = await Promise.all([
      live ? this.draft.diff(live.id) : Promise.resolve(null),
      api("POST", `${this.draft.base}/draft:plan`).then((r) => r.data),
    ]);
    const out = [];
    if (!live) out.push(h("p", { id: "publish-diff" }, `The first version: ${this.draft.files.length} files become live.`));
    else if (!diff.files.length) out.push(h("p", { id: "publish-diff" }, `No changes since v${live.semver}: the new version has the same files (allowed).`));
    else {
      out.push(h("p", { id: "publish-diff" }, `Changes since v${live.semver} (live): ${diffSummary(diff.files).text}`),
        h("ul", { class: "publish-files" }, ...diff.files.map((f) => h("li", {}, h("span", { class: `badge diff-${f.status}` }, f.status), " ", f.path,
          h("span", { class: "muted" }, ` +${f.additions} −${f.deletions}`)))));
    }
    if (this.files.anyDirty()) out.push(h("p", { class: "warn" }, "Unsaved changes in open tabs are not part of this version: save them first."));
    const problems = [...(plan.errors || []), ...(plan.warnings || [])];
    const blocking = problems.filter((p) => p.severity === "error");
    out.push(problems.length
      ? h("div", { id: "publish-warnings" },
        h("p", { class: blocking.length ? "error" : "warn" }, blocking.length
          ? `${blocking.length} problem(s) will stop the publish:`
          : `${problems.length} warning(s) (they do not stop the publish):`),
        h("ul", {}, ...problems.map((p) => h("li", { class: `sev-${p.severity}` }, `${p.path}${p.line ? ":" + p.line : ""}: `, p.where ? `${p.where}: ` : "", p.message))))
      : h("p", { class: "muted", id: "publish-warnings" }, "The plan has no warnings."));
    return out;
  }

  async publish(event) {
    event.preventDefault();
    const semver = document.getElementById("publish-semver").value.trim();
    const message = document.getElementById("publish-message").value;
    const errorBox = document.getElementById("publish-error");
    errorBox.replaceChildren();
    try {
      await api("POST", `${this.draft.base}/publish`, { json: { semver, message } });
      this.publishDialog.close();
      notify(`Published v${semver}`);
      await this.draft.refreshVersions();
    } catch (err) {
      showError(errorBox, err);
    }
  }

  openRevert() {
    const live = this.draft.published;
    const target = this.draft.earlier[0];
    const text = document.getElementById("revert-text");
    if (!live || !target) {
      text.replaceChildren(h("p", {}, this.revertBlocked()));
    } else {
      text.replaceChildren(
        h("p", { id: "revert-plan" }, `v${target.semver} becomes live again; v${live.semver} becomes deprecated.`),
        h("ul", {},
          h("li", {}, `Revert always goes to the highest version below the live one: v${target.semver}.`),
          h("li", {}, `main (what git clone checks out, and what new jobs of “the live version” mean) moves back to v${target.semver}'s commit.`),
          h("li", {}, `v${live.semver} keeps its tag and its jobs; its number cannot be published again — the next publish must be higher.`),
          h("li", {}, "The draft is not changed.")));
    }
    document.getElementById("revert-form").querySelector("button[type=submit]").disabled = !target;
    this.revertDialog.open_();
  }

  async revert(event) {
    event.preventDefault();
    try {
      const { data } = await api("POST", `${this.draft.base}/revert`);
      this.revertDialog.close();
      notify(`Reverted: v${data.published?.semver} is live, v${data.deprecated?.semver} is deprecated`);
      await this.draft.refreshVersions();
      if (router.currentRoute().view === "history") await this.showHistory();
    } catch (err) {
      showError(document.getElementById("revert-error"), err);
    }
  }
}

function patchLines(text) {
  return text.split("\n").map((line) => {
    let cls = "";
    if (line.startsWith("+++") || line.startsWith("---")) cls = "meta";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    else if (line.startsWith("@@")) cls = "hunk";
    return h("span", { class: `line ${cls}` }, line + "\n");
  });
}
