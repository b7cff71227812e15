// Open files: Monaco models in tabs, unsaved marks, Save with If-Match, the
// conflict flow of a stale save (412: reload theirs, or compare and overwrite),
// and unsaved text kept in this tab's sessionStorage so a reload brings it back.
import { api, encodePath, errorMessages } from "./api.js";
import { h, notify, dialog } from "./dom.js";
import { emit } from "./bus.js";
import * as router from "./router.js";

const LANGUAGES = { py: "python", md: "markdown", txt: "plaintext" };

/** Python gets Monaco's Python grammar; JSON stays plain text (its worker is pruned). */
export function languageOf(path) {
  const ext = path.includes(".") ? path.split(".").pop().toLowerCase() : "";
  return LANGUAGES[ext] || "plaintext";
}

/** Unsaved text per config, in this tab's sessionStorage: {path: {sha, code}}. */
class Unsaved {
  constructor(configId) {
    this.key = `ade.unsaved.${configId}`;
  }

  all() {
    try {
      return JSON.parse(sessionStorage.getItem(this.key) || "{}");
    } catch {
      return {};
    }
  }

  set(path, entry) {
    const all = this.all();
    if (entry) all[path] = entry;
    else delete all[path];
    try {
      sessionStorage.setItem(this.key, JSON.stringify(all));
    } catch {
      // Storage full: the beforeunload prompt still guards the text.
    }
  }
}

export class Files {
  constructor(monaco, draft) {
    this.monaco = monaco;
    this.draft = draft;
    this.tabs = new Map();
    this.active = null;
    this.conflict = null; // {tab, theirs: {code, sha}}
    this.unsaved = new Unsaved(draft.config.id);
    this.host = document.getElementById("monaco");
    this.editor = monaco.editor.create(this.host, {
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      tabSize: 4,
      insertSpaces: true,
      ariaLabel: "Code editor",
    });
    this.editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => this.save());
    this.compareDialog = dialog("compare-dialog");
    this.wireButtons();
  }

  wireButtons() {
    document.getElementById("save").addEventListener("click", () => this.save());
    document.getElementById("conflict-reload").addEventListener("click", () => this.reloadTheirs());
    document.getElementById("conflict-compare").addEventListener("click", () => this.compare());
    document.getElementById("conflict-dismiss").addEventListener("click", () => this.hideConflict());
    document.getElementById("compare-reload").addEventListener("click", () => this.reloadTheirs());
    document.getElementById("compare-overwrite").addEventListener("click", () => this.overwrite());
    // Keep unsaved text when the page goes (a reload), not only after a pause.
    window.addEventListener("pagehide", () => this.keepAll());
    window.addEventListener("beforeunload", () => this.keepAll());
    window.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        this.save();
      }
    });
  }

  url(path) {
    return `${this.draft.base}/draft/files/${encodePath(path)}`;
  }

  isDirty(path) {
    const tab = this.tabs.get(path);
    return Boolean(tab && tab.model.getAlternativeVersionId() !== tab.savedAlt);
  }

  anyDirty() {
    return [...this.tabs.keys()].some((path) => this.isDirty(path));
  }

  sha(path) {
    return this.tabs.get(path)?.sha || this.draft.file(path)?.sha || null;
  }

  /** Open (or show) a file's tab; unsaved text from before a reload comes back. */
  async open(path) {
    let tab = this.tabs.get(path);
    if (!tab) {
      const { data, etag } = await api("GET", this.url(path));
      if (this.tabs.has(path)) return this.activate(path); // opened meanwhile
      const uri = this.monaco.Uri.from({ scheme: "ade", path: "/" + path });
      this.monaco.editor.getModel(uri)?.dispose();
      const binary = Boolean(data.binary);
      const model = this.monaco.editor.createModel(binary ? "(binary file: edit it with git)" : data.code ?? "", languageOf(path), uri);
      tab = { path, model, sha: data.sha || etag, savedAlt: model.getAlternativeVersionId(), viewState: null, binary };
      const kept = this.unsaved.all()[path];
      if (kept && !binary && kept.code !== model.getValue()) {
        model.setValue(kept.code);
        tab.sha = kept.sha; // a save names what the text was based on: stale -> 412
      }
      model.onDidChangeContent(() => this.edited(tab));
      this.tabs.set(path, tab);
    }
    this.activate(path);
    return tab;
  }

  /** Reopen the files that had unsaved text when the page was left. */
  async restore() {
    for (const path of Object.keys(this.unsaved.all())) {
      try {
        await this.open(path);
      } catch {
        this.unsaved.set(path, null); // gone from the draft
      }
    }
  }

  keep(tab) {
    clearTimeout(tab.keepTimer);
    this.unsaved.set(tab.path, this.isDirty(tab.path) ? { sha: tab.sha, code: tab.model.getValue() } : null);
  }

  keepAll() {
    for (const tab of this.tabs.values()) this.keep(tab);
  }

  edited(tab) {
    clearTimeout(tab.keepTimer);
    tab.keepTimer = setTimeout(() => this.keep(tab), 250);
    this.render();
  }

  activate(path) {
    const current = this.tabs.get(this.active);
    if (current && this.active !== path) current.viewState = this.editor.saveViewState();
    const tab = this.tabs.get(path);
    this.active = path;
    this.editor.setModel(tab.model);
    this.editor.updateOptions({ readOnly: tab.binary });
    if (tab.viewState) this.editor.restoreViewState(tab.viewState);
    this.host.hidden = false;
    document.getElementById("empty-editor").hidden = true;
    this.render();
    this.editor.focus();
  }

  /** Close a tab (asking first when it has unsaved changes, unless ``force``). */
  close(path, { force = false } = {}) {
    const tab = this.tabs.get(path);
    if (!tab) return true;
    if (!force && this.isDirty(path) && !confirm(`${path} has unsaved changes. Close it anyway?`)) return false;
    this.tabs.delete(path);
    this.unsaved.set(path, null);
    tab.model.dispose();
    if (this.active === path) {
      const next = [...this.tabs.keys()].pop();
      this.active = null;
      if (next) router.go("editor", next, { replace: true });
      else {
        this.editor.setModel(null);
        this.host.hidden = true;
        document.getElementById("empty-editor").hidden = false;
        if (router.currentRoute().view === "editor") router.go("editor", "", { replace: true });
      }
    }
    this.render();
    return true;
  }

  render() {
    const bar = document.getElementById("tabs");
    bar.replaceChildren(...[...this.tabs.values()].map((tab) => {
      const dirty = this.isDirty(tab.path);
      const selected = tab.path === this.active;
      return h("div", { class: `tab${selected ? " active" : ""}${dirty ? " dirty" : ""}`, dataset: { path: tab.path } },
        h("button", {
          type: "button", role: "tab", "aria-selected": String(selected),
          title: tab.path, onclick: () => router.go("editor", tab.path),
        }, tab.path.split("/").pop(), dirty ? h("span", { class: "dirty-mark", "aria-label": "unsaved changes" }, " ●") : null),
        h("button", { type: "button", class: "close", "aria-label": `Close ${tab.path}`, onclick: () => this.close(tab.path) }, "×"));
    }));
    const dirty = this.active ? this.isDirty(this.active) : false;
    document.getElementById("save").disabled = !dirty;
    document.getElementById("save-state").textContent = this.active ? (dirty ? "Unsaved changes" : "Saved") : "";
    emit("tabs", { active: this.active, dirty: [...this.tabs.keys()].filter((p) => this.isDirty(p)) });
  }

  reveal(line, col) {
    if (!line) return;
    this.editor.revealLineInCenter(line);
    this.editor.setPosition({ lineNumber: line, column: (col || 0) + 1 });
    this.editor.focus();
  }

  async save(path = this.active) {
    const tab = this.tabs.get(path);
    if (!tab || !this.isDirty(path) || tab.saving) return;
    tab.saving = true;
    const alt = tab.model.getAlternativeVersionId();
    document.getElementById("save-state").textContent = "Saving…";
    try {
      const resp = await api("PUT", this.url(path), {
        json: { code: tab.model.getValue() }, headers: { "If-Match": `"${tab.sha}"` }, allow: [412],
      });
      if (resp.status === 412) {
        this.showConflict(tab);
        return;
      }
      this.saved(tab, resp.data, resp.etag, alt);
      notify(`Saved ${path}`);
    } catch (err) {
      notify(`Could not save ${path}: ${errorMessages(err).join(" · ")}`, "error");
    } finally {
      tab.saving = false;
      this.render();
    }
  }

  saved(tab, data, etag, alt) {
    tab.sha = data.sha || etag;
    tab.savedAlt = alt;
    this.unsaved.set(tab.path, this.isDirty(tab.path) ? { sha: tab.sha, code: tab.model.getValue() } : null);
    emit("saved", { path: tab.path, warnings: data.warnings || [] });
  }

  async fetchTheirs(path) {
    const { data, etag } = await api("GET", this.url(path));
    return { code: data.code ?? "", sha: data.sha || etag };
  }

  /** Another view changed ``path`` in the draft: an open tab without unsaved text follows. */
  async reloadIfClean(path) {
    const tab = this.tabs.get(path);
    if (!tab || tab.binary || this.isDirty(path)) return;
    const theirs = await this.fetchTheirs(path);
    if (this.tabs.get(path) !== tab || this.isDirty(path)) return; // closed or typed in meanwhile
    tab.model.setValue(theirs.code);
    tab.sha = theirs.sha;
    tab.savedAlt = tab.model.getAlternativeVersionId();
    this.render();
  }

  showConflict(tab) {
    this.conflict = { tab, theirs: null };
    document.getElementById("conflict-path").textContent = tab.path;
    document.getElementById("conflict").hidden = false;
    document.getElementById("save-state").textContent = "Not saved: conflict";
    document.getElementById("conflict-compare").focus();
  }

  hideConflict() {
    this.conflict = null;
    document.getElementById("conflict").hidden = true;
  }

  async reloadTheirs() {
    const { tab } = this.conflict || {};
    if (!tab) return;
    if (this.compareDialog.open) this.compareDialog.close();
    try {
      const theirs = await this.fetchTheirs(tab.path);
      tab.model.setValue(theirs.code);
      tab.sha = theirs.sha;
      tab.savedAlt = tab.model.getAlternativeVersionId();
      this.unsaved.set(tab.path, null);
      this.hideConflict();
      this.render();
      notify(`Reloaded ${tab.path} as saved by the other writer`);
    } catch (err) {
      notify(`Could not reload ${tab.path}: ${errorMessages(err).join(" · ")}`, "error");
    }
  }

  diffEditor() {
    if (!this.diff) {
      this.diff = this.monaco.editor.createDiffEditor(document.getElementById("compare-host"), {
        automaticLayout: true,
        renderSideBySide: true,
        useInlineViewWhenSpaceIsLimited: false,
        originalEditable: false,
        minimap: { enabled: false },
        ariaLabel: "Compare theirs and mine",
      });
    }
    return this.diff;
  }

  async compare() {
    const conflict = this.conflict;
    if (!conflict) return;
    try {
      conflict.theirs = await this.fetchTheirs(conflict.tab.path);
    } catch (err) {
      notify(`Could not load the other version: ${errorMessages(err).join(" · ")}`, "error");
      return;
    }
    const lang = languageOf(conflict.tab.path);
    const diff = this.diffEditor();
    const old = diff.getModel();
    diff.setModel({
      original: this.monaco.editor.createModel(conflict.theirs.code, lang),
      modified: this.monaco.editor.createModel(conflict.tab.model.getValue(), lang),
    });
    if (old) { old.original.dispose(); old.modified.dispose(); }
    document.getElementById("compare-error").textContent = "";
    if (!this.compareDialog.open) this.compareDialog.showModal();
    document.getElementById("compare-overwrite").focus();
  }

  async overwrite() {
    const conflict = this.conflict;
    if (!conflict?.theirs) return;
    const { tab, theirs } = conflict;
    const code = this.diff.getModel().modified.getValue();
    const box = document.getElementById("compare-error");
    let resp;
    try {
      resp = await api("PUT", this.url(tab.path), {
        json: { code }, headers: { "If-Match": `"${theirs.sha}"` }, allow: [412],
      });
    } catch (err) {
      box.textContent = errorMessages(err).join(" · ");
      return;
    }
    if (resp.status === 412) {
      await this.compare();
      box.textContent = "It changed again meanwhile: the left side now shows the newest saved version.";
      return;
    }
    tab.model.setValue(code);
    this.saved(tab, resp.data, resp.etag, tab.model.getAlternativeVersionId());
    this.compareDialog.close();
    this.hideConflict();
    this.render();
    notify(`Saved ${tab.path} (overwrote the other change)`);
  }
}
