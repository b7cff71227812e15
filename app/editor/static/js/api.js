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
  const resp = await fetch(API + path, init);
  const type = resp.headers.get("Content-Type") || "";
  let data = null;
  if (resp.status !== 204 && resp.status !== 304) {
    data = type.includes("json") ? await resp.json() : await resp.text();
  }
  const etag = (resp.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "");
  if (resp.status === 401) {
    requireSignIn();
  }
  if (resp.status >= 400 && !allow.includes(resp.status)) {
    const problem = data && typeof data === "object" ? data : { detail: String(data || resp.statusText) };
    throw new ApiError(resp.status, problem);
  }
  return { status: resp.status, data, etag, headers: resp.headers };
}

/** Path segments are encoded one by one: file paths keep their slashes. */
export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}
