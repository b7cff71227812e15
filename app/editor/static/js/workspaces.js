// The workspace list; an instance admin also creates, renames and deletes them.
import { api } from "./api.js";
import { h, notify, dialog, showError } from "./dom.js";
import { initSession, whoAmI } from "./session.js";

const list = document.getElementById("workspace-list");
let admin = false;
let current = null; // the workspace a dialog is about

function slugify(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}

async function load() {
  const { data } = await api("GET", "/workspaces");
  list.replaceChildren(...data.map((ws) => h("li", { class: "ws-item", dataset: { slug: ws.slug } },
    h("a", { href: `/workspaces/${encodeURIComponent(ws.slug)}/configs` }, ws.name || ws.slug),
    " ", h("span", { class: "muted" }, ws.slug),
    admin ? h("span", { class: "item-actions" },
      h("a", { href: `/workspaces/${encodeURIComponent(ws.slug)}/tokens` }, "Tokens"),
      h("button", { type: "button", onclick: () => openRename(ws) }, "Rename…"),
      h("button", { type: "button", onclick: () => openDelete(ws) }, "Delete…")) : null)));
  if (!data.length) list.append(h("li", { class: "muted" }, admin ? "No workspace yet: create one below." : "No workspace yet."));
}

function wireCreate() {
  document.getElementById("create-workspace").hidden = false;
  const name = document.getElementById("ws-name");
  const slug = document.getElementById("ws-slug");
  const error = document.getElementById("create-ws-error");
  name.addEventListener("input", () => { if (!slug.dataset.touched) slug.value = slugify(name.value); });
  slug.addEventListener("input", () => { slug.dataset.touched = "1"; });
  document.getElementById("create-ws-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    try {
      await api("POST", "/workspaces", { json: { slug: slug.value, name: name.value } });
      notify(`Created workspace ${slug.value}`);
      event.target.reset();
      delete slug.dataset.touched;
      await load();
    } catch (err) {
      showError(error, err);
    }
  });
}

const renameDialog = dialog("rename-ws-dialog");
const deleteDialog = dialog("delete-ws-dialog");

function openRename(ws) {
  current = ws;
  document.getElementById("rename-ws-name").value = ws.name;
  document.getElementById("rename-ws-slug").value = ws.slug;
  renameDialog.open_();
}

document.getElementById("rename-ws-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const json = {
    name: document.getElementById("rename-ws-name").value,
    slug: document.getElementById("rename-ws-slug").value,
  };
  try {
    await api("PATCH", `/workspaces/${current.id}`, { json });
    renameDialog.close();
    notify(`Renamed to ${json.slug}`);
    await load();
  } catch (err) {
    showError(document.getElementById("rename-ws-error"), err);
  }
});

function openDelete(ws) {
  current = ws;
  document.getElementById("delete-ws-text").textContent =
    `Delete ${ws.name} (${ws.slug})? Its tokens stop working at once.`;
  document.getElementById("delete-ws-force-row").hidden = true;
  document.getElementById("delete-ws-force").checked = false;
  deleteDialog.open_();
}

document.getElementById("delete-ws-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const force = document.getElementById("delete-ws-force").checked;
  const box = document.getElementById("delete-ws-error");
  try {
    await api("DELETE", `/workspaces/${current.id}${force ? "?force=true" : ""}`);
    deleteDialog.close();
    notify(`Deleted workspace ${current.slug}`);
    await load();
  } catch (err) {
    showError(box, err);
    // It holds something: say what, and offer to delete it all.
    if (err.status === 409) document.getElementById("delete-ws-force-row").hidden = false;
  }
});

async function main() {
  if (!initSession()) return;
  try {
    const me = await whoAmI(api);
    admin = me.instance_admin;
    if (admin) wireCreate();
    await load();
  } catch (err) {
    notify(err.message, "error");
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
