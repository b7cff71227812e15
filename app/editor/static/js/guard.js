// Guardrails as you type: a script's (or manifest.json's) text is checked by the
// API without saving it (POST draft:check, the same findings as a save) a moment
// after the typing stops, and shown as Monaco markers and a list under the editor.
import { api } from "./api.js";
import { h } from "./dom.js";
import { on } from "./bus.js";
import { locate } from "./jsonpos.js";

const OWNER = "guardrails";
const DELAY_MS = 500;

function checkable(path) {
  return path.endsWith(".py") || path === "manifest.json";
}

export class Guard {
  constructor(monaco, draft, reveal) {
    this.monaco = monaco;
    this.draft = draft;
    this.reveal = reveal;
    this.active = null;
    this.problems = new Map(); // path -> problems shown
    this.enabled = true;
    monaco.editor.onDidCreateModel((model) => {
      if (model.uri.scheme !== "ade") return;
      const path = model.uri.path.slice(1);
      if (!checkable(path)) return;
      let timer;
      model.onDidChangeContent(() => {
        clearTimeout(timer);
        timer = setTimeout(() => this.check(path, model), DELAY_MS);
      });
      setTimeout(() => this.check(path, model), 0);
    });
    on("tabs", ({ active }) => {
      this.active = active;
      this.render();
    });
    on("saved", ({ path, warnings }) => {
      const model = this.model(path);
      if (model && path !== "manifest.json") this.show(path, model, warnings, "saved");
    });
  }

  model(path) {
    return this.monaco.editor.getModel(this.monaco.Uri.from({ scheme: "ade", path: "/" + path }));
  }

  async check(path, model) {
    if (!this.enabled || model.isDisposed()) return;
    const version = model.getVersionId();
    let data;
    try {
      ({ data } = await api("POST", `${this.draft.base}/draft:check`, { json: { path, code: model.getValue() }, allow: [403] }));
    } catch {
      return; // a failed check is no finding; the save will tell
    }
    if (data?.problems === undefined) {
      this.enabled = false; // a viewer may not check: say nothing
      return;
    }
    if (model.isDisposed() || model.getVersionId() !== version) return; // typed meanwhile
    this.show(path, model, data.problems, "as you type");
  }

  show(path, model, problems, source) {
    const text = model.getValue();
    const placed = problems.map((p) => (p.line ? p : { ...p, ...locate(text, p.where) }));
    this.problems.set(path, { list: placed, source });
    this.monaco.editor.setModelMarkers(model, OWNER, placed.map((p) => ({
      severity: p.severity === "warning" || path !== "manifest.json" ? this.monaco.MarkerSeverity.Warning : this.monaco.MarkerSeverity.Error,
      message: `${p.code ? p.code + ": " : ""}${p.where ? p.where + ": " : ""}${p.message}`,
      source: "ADE",
      startLineNumber: p.line || 1,
      startColumn: (p.col || 0) + 1,
      endLineNumber: p.line || 1,
      endColumn: model.getLineMaxColumn(Math.min(p.line || 1, model.getLineCount())),
    })));
    if (path === this.active) this.render();
  }

  render() {
    const entry = this.problems.get(this.active) || { list: [] };
    document.getElementById("warnings").hidden = entry.list.length === 0;
    document.getElementById("warnings-source").textContent = entry.source ? `(${entry.source})` : "";
    document.getElementById("warning-list").replaceChildren(...entry.list.map((p) => h("li", {},
      h("button", { type: "button", class: "link-button", onclick: () => this.reveal(p.line, p.col) },
        `line ${p.line || "?"}${p.col != null ? ", col " + (p.col + 1) : ""}`),
      " ", p.code ? h("code", {}, p.code) : null, " ", p.where ? `${p.where}: ` : "", p.message)));
  }
}
