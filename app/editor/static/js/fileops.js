// File operations from the tree: Add column, New file (from the API's templates),
// Rename / move (one commit, If-Match) and Delete (If-Match). Each dialog shows
// what the API answered, network failures included.
import { api, encodePath } from "./api.js";
import { h, notify, dialog, showError } from "./dom.js";
import * as router from "./router.js";

const TEMPLATE_LABELS = {
  column: "Column script (detect, transform, validate)",
  table_transform: "Table transform (transform_table)",
  table_validators: "Table validators (validate_table)",
  blank: "Blank file",
};

export class FileOps {
  constructor(draft, files, templates) {
    this.draft = draft;
    this.files = files;
    this.addColumnDialog = dialog("add-column-dialog");
    this.newDialog = dialog("new-file-dialog");
    this.renameDialog = dialog("rename-file-dialog");
    this.deleteDialog = dialog("delete-file-dialog");
    const select = document.getElementById("new-file-template");
    select.replaceChildren(h("option", { value: "" }, "The default for the path"),
      ...templates.map((t) => h("option", { value: t }, TEMPLATE_LABELS[t] || t)));
    this.wireAddColumn();
    document.getElementById("new-file").addEventListener("click", () => this.newFile());
    document.getElementById("new-file-form").addEventListener("submit", (e) => this.create(e));
    document.getElementById("rename-file-form").addEventListener("submit", (e) => this.move(e));
    document.getElementById("delete-file-form").addEventListener("submit", (e) => this.delete(e));
    window.addEventListener("keydown", (e) => {
      if (e.altKey && !e.ctrlKey && e.key.toLowerCase() === "n") {
        e.preventDefault();
        this.newFile();
      }
    });
  }

  wireAddColumn() {
    const key = document.getElementById("column-key");
    const label = document.getElementById("column-label");
    label.addEventListener("input", () => {
      if (!key.dataset.touched) key.value = label.value.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+|_+$/g, "").slice(0, 63);
    });
    key.addEventListener("input", () => { key.dataset.touched = "1"; });
    document.getElementById("add-column-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { key: key.value.trim(), label: label.value.trim(), required: document.getElementById("column-required").checked };
      try {
        const { data } = await api("POST", `${this.draft.base}/draft/columns`, { json: body });
        this.addColumnDialog.close();
        await this.draft.refresh();
        notify(`Added column ${body.key}`);
        router.go("editor", data?.path || `columns/${body.key}.py`);
      } catch (err) {
        showError(document.getElementById("add-column-error"), err);
      }
    });
  }

  addColumn() {
    document.getElementById("add-column-form").reset();
    delete document.getElementById("column-key").dataset.touched;
    this.addColumnDialog.open_();
    document.getElementById("column-label").focus();
  }

  newFile() {
    document.getElementById("new-file-form").reset();
    this.newDialog.open_();
    document.getElementById("new-file-path").focus();
  }

  async create(event) {
    event.preventDefault();
    const path = document.getElementById("new-file-path").value.trim();
    const template = document.getElementById("new-file-template").value;
    try {
      await api("POST", `${this.draft.base}/draft/files`, { json: template ? { path, template } : { path } });
      this.newDialog.close();
      await this.draft.refresh();
      notify(`Created ${path}`);
      router.go("editor", path);
    } catch (err) {
      showError(document.getElementById("new-file-error"), err);
    }
  }

  rename(path) {
    this.target = path;
    document.getElementById("rename-file-from").textContent = path;
    const input = document.getElementById("rename-file-to");
    input.value = path;
    this.renameDialog.open_();
    if (this.files.isDirty(path)) {
      document.getElementById("rename-file-error").textContent = `${path} has unsaved changes: save them first, they would stay behind.`;
    }
    input.focus();
    input.setSelectionRange(path.lastIndexOf("/") + 1, path.lastIndexOf(".") > path.lastIndexOf("/") ? path.lastIndexOf(".") : path.length);
  }

  async move(event) {
    event.preventDefault();
    const from = this.target;
    const to = document.getElementById("rename-file-to").value.trim();
    const box = document.getElementById("rename-file-error");
    if (this.files.isDirty(from)) {
      box.textContent = `${from} has unsaved changes: save them first, they would stay behind.`;
      return;
    }
    try {
      const { data } = await api("POST", `${this.draft.base}/draft:move`, {
        json: { from, to }, headers: { "If-Match": `"${this.files.sha(from)}"` },
      });
      this.renameDialog.close();
      const wasOpen = this.files.tabs.has(from);
      this.files.close(from, { force: true });
      await this.draft.refresh();
      notify(data.manifest_updated ? `Moved ${from} to ${to} (the manifest follows)` : `Moved ${from} to ${to}`);
      if (wasOpen || router.currentRoute().view === "editor") router.go("editor", to);
    } catch (err) {
      showError(box, err);
    }
  }

  remove(path) {
    this.target = path;
    document.getElementById("delete-file-path").textContent = path;
    this.deleteDialog.open_();
  }

  async delete(event) {
    event.preventDefault();
    const path = this.target;
    try {
      await api("DELETE", `${this.draft.base}/draft/files/${encodePath(path)}`, {
        headers: { "If-Match": `"${this.files.sha(path)}"` },
      });
      this.deleteDialog.close();
      this.files.close(path, { force: true });
      await this.draft.refresh();
      notify(`Deleted ${path}`);
    } catch (err) {
      showError(document.getElementById("delete-file-error"), err);
    }
  }
}
