// Sign-in: check the pasted token against the API, keep it for this tab.
import { API } from "./api.js";
import { setToken } from "./session.js";

const form = document.getElementById("signin-form");
const input = document.getElementById("token");
const error = document.getElementById("signin-error");
input.focus();
document.body.dataset.ready = "true";

/**
 * Only same-origin paths are followed after sign-in. The target is resolved first:
 * browsers read "/\\evil" as "//evil" and drop tabs and newlines, so a prefix check
 * on the raw string is an open redirect.
 */
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "";
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return "/workspaces";
  }
  if (!next.startsWith("/") || url.origin !== location.origin) return "/workspaces";
  return url.pathname + url.search + url.hash;
}

async function check(token) {
  try {
    return await fetch(`${API}/me`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
  } catch (err) {
    error.textContent = `The server could not be reached (${err.message}); try again.`;
    return null;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const token = input.value.trim();
  const resp = await check(token);
  if (!resp) return;
  if (resp.status === 401) {
    error.textContent = "This token is not valid (unknown or revoked).";
    input.focus();
    return;
  }
  if (!resp.ok) {
    error.textContent = `The server answered ${resp.status}; try again.`;
    return;
  }
  setToken(token);
  const me = await resp.json();
  let next = nextPath();
  // A workspace token has exactly one workspace: go straight to its configs.
  if (next === "/workspaces" && me.workspace) next = `/workspaces/${encodeURIComponent(me.workspace.slug)}/configs`;
  location.assign(next);
});
