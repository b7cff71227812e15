// A workspace's tokens (workspace admin): list with role and last use, create
// (the secret shown once, with a copy button), revoke.
import { api } from "./api.js";
import { h, notify, dialog, showError, formatTime, copyText } from "./dom.js";
import { initSession, whoAmI } from "./session.js";

const main = document.getElementById("main");
const wsPath = `/workspaces/${encodeURIComponent(main.dataset.ws)}`;
const secretDialog = dialog("secret-dialog");
const revokeDialog = dialog("revoke-dialog");
let revoking = null;

async function load() {
  const [{ data: ws }, { data: tokens }] = await Promise.all([
    api("GET", wsPath), api("GET", `${wsPath}/tokens`),
  ]);
  document.getElementById("ws-name").textContent = ws.name;
  document.querySelector("#token-table tbody").replaceChildren(...tokens.map((t) => h("tr", { dataset: { token: t.name } },
    h("th", { scope: "row" }, t.name),
    h("td", {}, h("span", { class: "badge" }, t.role)),
    h("td", {}, formatTime(t.created_at)),
    h("td", {}, t.last_used_at ? formatTime(t.last_used_at) : h("span", { class: "muted" }, "never")),
    h("td", {}, h("button", { type: "button", onclick: () => openRevoke(t) }, "Revoke…")))));
}

function openRevoke(token) {
  revoking = token;
  document.getElementById("revoke-text").textContent =
    `Revoke ${token.name} (${token.role})? Anyone using it is signed out at their next request; this cannot be undone.`;
  revokeDialog.open_();
}

document.getElementById("revoke-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("DELETE", `${wsPath}/tokens/${revoking.id}`);
    revokeDialog.close();
    notify(`Revoked ${revoking.name}`);
    await load();
  } catch (err) {
    showError(document.getElementById("revoke-error"), err);
  }
});

document.getElementById("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("token-error");
  error.replaceChildren();
  const json = { name: document.getElementById("token-name").value.trim(), role: document.getElementById("token-role").value };
  try {
    const { data } = await api("POST", `${wsPath}/tokens`, { json });
    document.getElementById("secret-value").value = data.secret;
    secretDialog.open_();
    document.getElementById("secret-value").select();
    event.target.reset();
    await load();
  } catch (err) {
    showError(error, err);
  }
});

document.getElementById("copy-secret").addEventListener("click", async () => {
  await copyText(document.getElementById("secret-value"));
  notify("Secret copied");
});
// The secret is not kept anywhere once the dialog closes.
secretDialog.addEventListener("close", () => { document.getElementById("secret-value").value = ""; });

if (initSession()) {
  whoAmI(api).catch(() => {});
  load()
    .catch((err) => notify(err.message, "error"))
    .finally(() => { document.body.dataset.ready = "true"; });
}
