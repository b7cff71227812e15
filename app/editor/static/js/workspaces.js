// The workspace list.
import { api } from "./api.js";
import { h, notify } from "./dom.js";
import { initSession } from "./session.js";

async function main() {
  if (!initSession()) return;
  const list = document.getElementById("workspace-list");
  try {
    const { data } = await api("GET", "/workspaces");
    list.replaceChildren(
      ...data.map((ws) =>
        h("li", {}, h("a", { href: `/workspaces/${encodeURIComponent(ws.slug)}/configs` }, ws.name || ws.slug),
          " ", h("span", { class: "muted" }, ws.slug))),
    );
    if (!data.length) list.append(h("li", { class: "muted" }, "No workspace yet."));
  } catch (err) {
    notify(err.message, "error");
  }
}

main();
