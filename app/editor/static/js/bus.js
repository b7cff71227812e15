// The editor's few events. Modules own their state and announce changes here;
// nobody reaches into another module's fields.
//
//   "draft"     the draft's files, manifest or changed-since-live set were reloaded
//   "versions"  the versions (published, deprecated) were reloaded
//   "tabs"      open tabs, the active tab or their unsaved state changed
//   "route"     the view changed ({view, arg})
//   "saved"     a file was saved ({path})
const target = new EventTarget();

export function on(name, handler) {
  target.addEventListener(name, (event) => handler(event.detail));
}

export function emit(name, detail = {}) {
  target.dispatchEvent(new CustomEvent(name, { detail }));
}
