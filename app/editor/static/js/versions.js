// Publish, revert, history (versions and draft commits) and the draft-vs-version diff.
import { api, ApiError } from "./api.js";
import { h, notify, dialog, formatTime } from "./dom.js";

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

export class Versions {
  constructor(ctx) {
    this.ctx = ctx;
    this.versions = [];
    this.publishDialog = dialog("publish-dialog");
    this.revertDialog = dialog("revert-dialog");
    document.getElementById("open-publish").addEventListener("click", () => this.openPublish());
    document.getElementById("open-revert").addEventListener("click", () => this.openRevert());
    document.getElementById("publish-form").addEventListener("submit", (e) => this.publish(e));
    document.getElementById("revert-form").addEventListener("submit", (e) => this.revert(e));
    document.getElementById("diff-form").addEventListener("submit", (e) => { e.preventDefault(); this.showDiff(); });
  }

  async load() {
    const { data } = await api("GET", `${this.ctx.base}/versions`);
    this.versions = data;
    this.renderVersions();
    return data;
  }

  published() {
    return this.versions.find((v) => v.status === "published") || null;
  }

  renderVersions() {
    const body = document.querySelector("#versions-table tbody");
    body.replaceChildren(...this.versions.map((v) => h("tr", { class: `status-${v.status}`, dataset: { version: v.semver || "draft" } },
      h("th", { scope: "row" }, label(v)),
      h("td", {}, h("span", { class: `badge ${v.status === "published" ? "ok" : ""}` }, v.status)),
      h("td", {}, v.message || ""),
      h("td", {}, formatTime(v.published_at)),
      h("td", {}, h("code", { title: v.files_hash || "" }, (v.files_hash || "").slice(0, 10))),
      h("td", {}, v.status === "draft" ? "" : h("button", { type: "button", onclick: () => this.showDiff(v.id) }, `Diff ${label(v)} → draft`)),
    )));
    const select = document.getElementById("diff-from");
    const previous = select.value;
    select.replaceChildren(...this.versions.filter((v) => v.status !== "draft")
      .map((v) => h("option", { value: v.id }, `${label(v)} (${v.status})`)));
    if (previous) select.value = previous;
    const pub = this.published();
    const badge = document.getElementById("published-badge");
    badge.textContent = pub ? `live: v${pub.semver}` : "not published";
    badge.classList.toggle("ok", Boolean(pub));
    document.getElementById("open-revert").disabled = !pub;
  }

  async loadHistory() {
    const { data } = await api("GET", `${this.ctx.base}/history`);
    const commits = Array.isArray(data) ? data : data.commits || [];
    document.getElementById("commit-list").replaceChildren(...commits.map((c) => h("li", {},
      h("code", {}, (c.sha || "").slice(0, 8)), " ",
      h("strong", { title: (c.message || "").trimEnd() }, (c.message || "").split("\n")[0]),
      h("div", { class: "muted" }, `${c.author?.name || ""} · ${formatTime(c.time)}`,
        c.paths?.length ? ` · ${c.paths.join(", ")}` : ""))));
  }

  async showHistory() {
    await Promise.all([this.load(), this.loadHistory()]);
  }

  openPublish() {
    document.getElementById("publish-semver").value = suggestNext(this.versions);
    document.getElementById("publish-message").value = "";
    document.getElementById("publish-error").replaceChildren();
    this.publishDialog.showModal();
    document.getElementById("publish-semver").select();
  }

  async publish(event) {
    event.preventDefault();
    const semver = document.getElementById("publish-semver").value.trim();
    const message = document.getElementById("publish-message").value;
    const errorBox = document.getElementById("publish-error");
    errorBox.replaceChildren();
    if (this.ctx.files_?.anyDirty() && !confirm("Some files have unsaved changes; they will not be part of this version. Publish anyway?")) return;
    try {
      await api("POST", `${this.ctx.base}/publish`, { json: { semver, message } });
      this.publishDialog.close();
      notify(`Published v${semver}`);
      await this.ctx.refreshVersions();
    } catch (err) {
      const messages = err instanceof ApiError ? err.messages() : [String(err)];
      errorBox.append(h("ul", {}, ...messages.map((m) => h("li", {}, m))));
    }
  }

  openRevert() {
    const pub = this.published();
    const earlier = this.versions.filter((v) => v.status !== "draft" && v !== pub);
    const back = earlier.find((v) => v.status === "published" || v.status === "deprecated");
    document.getElementById("revert-text").textContent = pub
      ? `v${pub.semver} becomes deprecated; ${back ? `v${back.semver}` : "the previous version"} is published again.`
      : "Nothing is published.";
    document.getElementById("revert-error").textContent = "";
    this.revertDialog.showModal();
  }

  async revert(event) {
    event.preventDefault();
    try {
      const { data } = await api("POST", `${this.ctx.base}/revert`);
      this.revertDialog.close();
      notify(`Reverted: v${data.published?.semver} is live, v${data.deprecated?.semver} is deprecated`);
      await this.ctx.refreshVersions();
    } catch (err) {
      document.getElementById("revert-error").textContent = err.message;
    }
  }

  async showDiff(versionId) {
    this.ctx.openView("diff");
    const select = document.getElementById("diff-from");
    if (versionId) select.value = versionId;
    const from = select.value;
    const body = document.getElementById("diff-body");
    if (!from) {
      body.replaceChildren(h("p", { class: "muted" }, "No version to compare with yet: publish one first."));
      return;
    }
    const { data } = await api("GET", `${this.ctx.base}/diff?from=${encodeURIComponent(from)}&to=draft`);
    const files = data.files || [];
    if (!files.length) {
      body.replaceChildren(h("p", { class: "muted" }, "No differences: the draft matches this version."));
      return;
    }
    body.replaceChildren(...files.map((f) => h("section", { class: "diff-file" },
      h("h2", {}, h("span", { class: `badge diff-${f.status}` }, f.status), " ", f.path),
      h("pre", { class: "patch", tabindex: "0", "aria-label": `Changes in ${f.path}` }, ...patchLines(f.patch || f.diff || "")))));
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
