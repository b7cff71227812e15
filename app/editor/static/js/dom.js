// Tiny DOM helpers: build elements with text only (no innerHTML with data).
import { errorMessages } from "./api.js";

/** h("td", {class: "x", dataset: {k: "v"}, onclick: fn}, "text", child, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Show a short message in the page's live region. */
export function notify(message, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(notify.timer);
  if (kind !== "error") notify.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Show an error (API problem, network failure, anything) in a box, as a list. */
export function showError(box, err) {
  const lines = errorMessages(err);
  box.replaceChildren(lines.length > 1 ? h("ul", {}, ...lines.map((m) => h("li", {}, m))) : lines[0]);
}

/** Wire a <dialog>: [data-close] buttons close it; clears its .error boxes on open. */
export function dialog(id) {
  const el = document.getElementById(id);
  for (const button of el.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => el.close());
  }
  el.open_ = () => {
    for (const box of el.querySelectorAll(".error")) box.replaceChildren();
    el.showModal();
  };
  return el;
}

export function formatTime(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Copy text to the clipboard (with the old fallback for insecure contexts). */
export async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
}
