// The workspace's uploaded documents, shared by the dry-run and jobs forms: every
// <select class="documents"> lists them; an upload adds one and selects it.
import { api, errorMessages } from "./api.js";
import { h } from "./dom.js";

export class Documents {
  constructor(ws) {
    this.path = `/workspaces/${encodeURIComponent(ws)}/documents`;
    this.list = [];
  }

  async load(selectId) {
    const { data } = await api("GET", this.path);
    this.list = data;
    for (const select of document.querySelectorAll("select.documents")) {
      const previous = selectId || select.value;
      select.replaceChildren(...data.map((d) => h("option", { value: d.id }, `${d.filename} (${Math.ceil((d.size || 0) / 1024)} KiB)`)));
      if (!data.length) select.append(h("option", { value: "" }, "No document yet: upload one"));
      if (previous && data.some((d) => d.id === previous)) select.value = previous;
    }
  }

  name(id) {
    return this.list.find((d) => d.id === id)?.filename || id;
  }

  /** Upload the file of ``input``; ``status`` says how it went. */
  async upload(input, status) {
    const file = input.files[0];
    if (!file) return null;
    status.textContent = `Uploading ${file.name}…`;
    const body = new FormData();
    body.append("file", file);
    try {
      const { data } = await api("POST", this.path, { body });
      await this.load(data.id);
      status.textContent = `Uploaded ${file.name}`;
      return data;
    } catch (err) {
      status.textContent = `Upload failed: ${errorMessages(err).join(" · ")}`;
      return null;
    } finally {
      input.value = "";
    }
  }
}
