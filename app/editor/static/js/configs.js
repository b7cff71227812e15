// A workspace's configs, and the form that creates one.
import { api, ApiError } from "./api.js";
import { h, notify } from "./dom.js";
import { initSession, whoAmI } from "./session.js";

const main = document.getElementById("main");
const ws = main.dataset.ws;
const wsPath = `/workspaces/${encodeURIComponent(ws)}`;

function editorUrl(config) {
  return `${wsPath}/configs/${encodeURIComponent(config.id)}/editor`;
}

async function load() {
  const list = document.getElementById("config-list");
  const { data } = await api("GET", `${wsPath}/configs`);
  list.replaceChildren(
    ...data.map((c) =>
      h("li", {},
        h("a", { href: editorUrl(c) }, c.title || c.slug), " ",
        h("span", { class: "muted" }, c.slug),
        c.published ? h("span", { class: "badge ok" }, `v${c.published.semver}`) : h("span", { class: "badge" }, "draft only"))),
  );
  if (!data.length) list.append(h("li", { class: "muted" }, "No config yet: create one below."));
}

function slugify(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}

function wireCreate() {
  const form = document.getElementById("create-form");
  const title = document.getElementById("config-title");
  const slug = document.getElementById("config-slug");
  const error = document.getElementById("create-error");
  title.addEventListener("input", () => {
    if (!slug.dataset.touched) slug.value = slugify(title.value);
  });
  slug.addEventListener("input", () => { slug.dataset.touched = "1"; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const { data } = await api("POST", `${wsPath}/configs`, { json: { slug: slug.value, title: title.value } });
      location.assign(editorUrl(data));
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.messages().join(" · ") : String(err);
    }
  });
}

async function showAdminLinks() {
  const me = await whoAmI(api);
  // Workspace admins (and instance admins) manage the workspace's tokens.
  document.getElementById("ws-links").hidden = !(me.instance_admin || me.role === "admin");
}

if (initSession()) {
  wireCreate();
  Promise.all([load(), showAdminLinks()])
    .catch((err) => notify(err.message, "error"))
    .finally(() => { document.body.dataset.ready = "true"; });
}
