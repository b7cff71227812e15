// Open files: Monaco models in tabs, unsaved marks, Save with If-Match, and the
// conflict flow of a stale save (412): reload theirs, or compare and overwrite.
import { api, encodePath } from "./api.js";
import { h, notify, dialog } from "./dom.js";

const LANGUAGES = { py: "python", md: "markdown", txt: "plaintext" };

/** Python gets Monaco's Python grammar; JSON stays plain text (its worker is pruned). */
export function languageOf(path) {
  const ext = path.includes(".") ? path.split(".").pop().toLowerCase() : "";
  return LANGUAGES[ext] || "plaintext";
}

export class Files {
  constructor(ctx) {
    this.ctx = ctx;
    this.monaco = ctx.monaco;
    this.tabs = new Map();
    this.active = null;
    this.conflict = null; // {tab, theirs: {code, sha}}
    this.warningsByPath = new Map();
    this.host = document.getElementById("monaco");
    this.editor = this.monaco.editor.create(this.host, {
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      tabSize: 4,
      insertSpaces: true,
      ariaLabel: "Code editor",
    });
    this.editor.addCommand(this.monaco.KeyMod.CtrlCmd | this.monaco.KeyCode.KeyS, () => this.save());
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
    window.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        this.save();
      }
    });
  }

  url(path) {
    return `${this.ctx.base}/draft/files/${encodePath(path)}`;
  }

  isDirty(tab) {
    return tab.model.getAlternativeVersionId() !== tab.savedAlt;
  }

  anyDirty() {
    return [...this.tabs.values()].some((tab) => this.isDirty(tab));
  }

  async open(path) {
    let tab = this.tabs.get(path);
    if (!tab) {
      const { data, etag } = await api("GET", this.url(path));
      const uri = this.monaco.Uri.from({ scheme: "ade", path: "/" + path });
      const model = this.monaco.editor.createModel(data.code ?? "", languageOf(path), uri);
      // Binary files (not UTF-8) are shown read-only: saving them as text would corrupt them.
      tab = { path, model, sha: data.sha || etag, savedAlt: model.getAlternativeVersionId(), viewState: null, binary: Boolean(data.binary) };
      if (tab.binary) model.setValue("(binary file: edit it with git)");
      tab.savedAlt = model.getAlternativeVersionId();
      model.onDidChangeContent(() => this.render());
      this.tabs.set(path, tab);
    }
    this.activate(path);
    return tab;
  }

  activate(path) {
    const current = this.tabs.get(this.active);
    if (current) current.viewState = this.editor.saveViewState();
    const tab = this.tabs.get(path);
    this.active = path;
    this.editor.setModel(tab.model);
    this.editor.updateOptions({ readOnly: tab.binary });
    if (tab.viewState) this.editor.restoreViewState(tab.viewState);
    this.host.hidden = false;
    document.getElementById("empty-editor").hidden = true;
    this.ctx.showView("editor");
    this.render();
    this.renderWarnings();
    this.editor.focus();
  }

  close(path) {
    const tab = this.tabs.get(path);
    if (this.isDirty(tab) && !confirm(`${path} has unsaved changes. Close it anyway?`)) return;
    this.tabs.delete(path);
    tab.model.dispose();
    if (this.active === path) {
      const next = [...this.tabs.keys()].pop();
      if (next) this.activate(next);
      else {
        this.active = null;
        this.editor.setModel(null);
        this.host.hidden = true;
        document.getElementById("empty-editor").hidden = false;
        this.render();
      }
    }
  }

  render() {
    const bar = document.getElementById("tabs");
    bar.replaceChildren(
      ...[...this.tabs.values()].map((tab) => {
        const dirty = this.isDirty(tab);
        const selected = tab.path === this.active;
        return h("div", { class: `tab${selected ? " active" : ""}${dirty ? " dirty" : ""}`, dataset: { path: tab.path } },
          h("button", {
            type: "button", role: "tab", "aria-selected": String(selected),
            title: tab.path, onclick: () => this.activate(tab.path),
          }, tab.path.split("/").pop(), dirty ? h("span", { class: "dirty-mark", "aria-label": "unsaved changes" }, " ●") : null),
          h("button", { type: "button", class: "close", "aria-label": `Close ${tab.path}`, onclick: () => this.close(tab.path) }, "×"));
      }),
    );
    const tab = this.tabs.get(this.active);
    const dirty = tab ? this.isDirty(tab) : false;
    document.getElementById("save").disabled = !dirty;
    document.getElementById("save-state").textContent = tab ? (dirty ? "Unsaved changes" : "Saved") : "";
    this.ctx.onFilesChanged?.();
  }

  setWarnings(path, warnings) {
    this.warningsByPath.set(path, warnings || []);
    const tab = this.tabs.get(path);
    if (tab) {
      this.monaco.editor.setModelMarkers(tab.model, "guardrails", (warnings || []).map((w) => ({
        severity: this.monaco.MarkerSeverity.Warning,
        message: `${w.code ? w.code + ": " : ""}${w.message}`,
        startLineNumber: w.line || 1,
        startColumn: (w.col || 0) + 1,
        endLineNumber: w.line || 1,
        endColumn: 1000,
      })));
    }
    if (path === this.active) this.renderWarnings();
  }

  renderWarnings() {
    const warnings = this.warningsByPath.get(this.active) || [];
    const box = document.getElementById("warnings");
    box.hidden = warnings.length === 0;
    document.getElementById("warning-list").replaceChildren(
      ...warnings.map((w) => h("li", {},
        h("button", { type: "button", class: "link-button", onclick: () => this.reveal(w.line, w.col) },
          `line ${w.line || "?"}${w.col != null ? ", col " + (w.col + 1) : ""}`),
        " ", w.code ? h("code", {}, w.code) : null, " ", w.message)),
    );
  }

  reveal(line, col) {
    if (!line) return;
    this.editor.revealLineInCenter(line);
    this.editor.setPosition({ lineNumber: line, column: (col || 0) + 1 });
    this.editor.focus();
  }

  async save(path = this.active) {
    const tab = this.tabs.get(path);
    if (!tab || !this.isDirty(tab) || tab.saving) return;
    tab.saving = true;
    const alt = tab.model.getAlternativeVersionId();
    document.getElementById("save-state").textContent = "Saving…";
    try {
      const resp = await api("PUT", this.url(path), {
        json: { code: tab.model.getValue() }, headers: { "If-Match": `"${tab.sha}"` }, allow: [412],
      });
      if (resp.status === 412) {
        await this.showConflict(tab, resp.data);
        return;
      }
      this.saved(tab, resp.data, resp.etag, alt);
      notify(`Saved ${path}`);
    } catch (err) {
      notify(`Could not save ${path}: ${err.message}`, "error");
    } finally {
      tab.saving = false;
      this.render();
    }
  }

  saved(tab, data, etag, alt) {
    tab.sha = data.sha || etag;
    tab.savedAlt = alt;
    this.setWarnings(tab.path, data.warnings || data.findings || []);
    this.ctx.onSaved?.(tab.path, data);
  }

  async fetchTheirs(path) {
    const { data, etag } = await api("GET", this.url(path));
    return { code: data.code ?? "", sha: data.sha || etag };
  }

  async showConflict(tab, problem) {
    this.conflict = { tab, theirs: null, currentEtag: problem?.current_etag };
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
    const theirs = await this.fetchTheirs(tab.path);
    tab.model.setValue(theirs.code);
    tab.sha = theirs.sha;
    tab.savedAlt = tab.model.getAlternativeVersionId();
    this.hideConflict();
    this.render();
    notify(`Reloaded ${tab.path} as saved by the other writer`);
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
    conflict.theirs = await this.fetchTheirs(conflict.tab.path);
    const lang = languageOf(conflict.tab.path);
    const diff = this.diffEditor();
    const old = diff.getModel();
    diff.setModel({
      original: this.monaco.editor.createModel(conflict.theirs.code, lang),
      modified: this.monaco.editor.createModel(conflict.tab.model.getValue(), lang),
    });
    if (old) { old.original.dispose(); old.modified.dispose(); }
    document.getElementById("compare-error").textContent = "";
    this.compareDialog.showModal();
    document.getElementById("compare-overwrite").focus();
  }

  async overwrite() {
    const conflict = this.conflict;
    if (!conflict?.theirs) return;
    const { tab, theirs } = conflict;
    const code = this.diff.getModel().modified.getValue();
    const resp = await api("PUT", this.url(tab.path), {
      json: { code }, headers: { "If-Match": `"${theirs.sha}"` }, allow: [412],
    });
    if (resp.status === 412) {
      document.getElementById("compare-error").textContent =
        "It changed again meanwhile: the left side now shows the newest saved version.";
      await this.compare();
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
