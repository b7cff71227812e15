// What the editor knows about the config: its files and manifest (the draft), its
// versions, and which files changed since the live version. One owner; others
// read it and listen for "draft" and "versions".
import { api } from "./api.js";
import { emit } from "./bus.js";

export class Draft {
  constructor(ws, configId) {
    this.ws = ws;
    this.base = `/workspaces/${encodeURIComponent(ws)}/configs/${encodeURIComponent(configId)}`;
    this.config = null;
    this.files = [];
    this.manifest = {};
    this.versions = [];
    this.changed = new Map(); // path -> added | modified | deleted, since the live version
  }

  get published() {
    return this.versions.find((v) => v.status === "published") || null;
  }

  /** Versions below the live one (the list is newest first), highest first. */
  get earlier() {
    const live = this.published;
    if (!live) return [];
    const rest = this.versions.filter((v) => v.status !== "draft");
    return rest.slice(rest.indexOf(live) + 1);
  }

  file(path) {
    return this.files.find((f) => f.path === path) || null;
  }

  async loadConfig() {
    const { data } = await api("GET", this.base);
    this.config = data;
    return data;
  }

  /** Reload the file list, the manifest and what changed since live; "draft". */
  async refresh() {
    const [files, manifest] = await Promise.all([
      api("GET", `${this.base}/draft/files`),
      api("GET", `${this.base}/draft/manifest`, { allow: [404, 409] }),
    ]);
    this.files = files.data;
    this.manifest = manifest.status === 200 ? manifest.data : {};
    await this.loadChanged();
    emit("draft", this);
  }

  async loadChanged() {
    const live = this.published;
    this.changed = new Map();
    if (!live) return;
    const { data } = await api("GET", `${this.base}/diff?from=${encodeURIComponent(live.id)}&to=draft`);
    for (const f of data.files) this.changed.set(f.path, f.status);
  }

  /** Reload the versions ("versions"), then what changed since the live one. */
  async refreshVersions() {
    const { data } = await api("GET", `${this.base}/versions`);
    this.versions = data;
    emit("versions", this);
    await this.loadChanged();
    emit("draft", this);
  }

  diff(fromId) {
    return api("GET", `${this.base}/diff?from=${encodeURIComponent(fromId)}&to=draft`).then((r) => r.data);
  }
}
