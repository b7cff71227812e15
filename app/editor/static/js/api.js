// A thin client of /api/v1: bearer token, JSON in and out, problem+json errors.
import { getToken, requireSignIn } from "./session.js";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** Every message of a problem: the detail, then "field: message" lines. */
  messages() {
    const out = [this.message];
    const errors = this.problem.errors;
    if (Array.isArray(errors)) out.push(...errors.map(String));
    else if (errors && typeof errors === "object") {
      for (const [field, msgs] of Object.entries(errors)) {
        const list = Array.isArray(msgs) ? msgs : [msgs];
        for (const m of list) out.push(`${field}: ${typeof m === "string" ? m : JSON.stringify(m)}`);
      }
    }
    return out;
  }
}

/** The lines to show for any error: an API problem, a network failure, a bug. */
export function errorMessages(err) {
  return err instanceof ApiError ? err.messages() : [String(err?.message || err)];
}

/** fetch, with a network failure turned into an ApiError of status 0. */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, {
      title: "Network error",
      detail: `The server could not be reached (${err.message || err}); check the connection and try again.`,
    });
  }
}

/**
 * Call the API. Returns {status, data, etag, headers}; throws ApiError on >= 400.
 * `json` is sent as the body; `body` (FormData) as is; `headers` are added.
 */
export async function api(method, path, { json, body, headers = {}, allow = [] } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  const token = getToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const resp = await send(path.startsWith(API) ? path : API + path, init);
  const type = resp.headers.get("Content-Type") || "";
  let data = null;
  if (resp.status !== 204 && resp.status !== 304) {
    try {
      data = type.includes("json") ? await resp.json() : await resp.text();
    } catch {
      throw new ApiError(0, { detail: "The connection broke while reading the answer; try again." });
    }
  }
  const etag = (resp.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "");
  if (resp.status === 401) requireSignIn();
  if (resp.status >= 400 && !allow.includes(resp.status)) {
    const problem = data && typeof data === "object" ? data : { detail: String(data || resp.statusText) };
    throw new ApiError(resp.status, problem);
  }
  return { status: resp.status, data, etag, headers: resp.headers };
}

/** Download an API file (they need the bearer token, so a plain link cannot). */
export async function download(path, filename) {
  const token = getToken();
  const resp = await send(path.startsWith(API) ? path : API + path, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!resp.ok) {
    let problem;
    try { problem = await resp.json(); } catch { problem = { detail: resp.statusText }; }
    throw new ApiError(resp.status, problem);
  }
  const disposition = resp.headers.get("Content-Disposition") || "";
  const named = disposition.match(/filename="?([^";]+)"?/);
  const url = URL.createObjectURL(await resp.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename || (named ? named[1] : "download");
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Path segments are encoded one by one: file paths keep their slashes. */
export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}
