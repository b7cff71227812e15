// Load Monaco's AMD build from our own static files, then announce it.
// A classic script (not a module): the AMD loader defines the global `require`.
(function () {
  "use strict";
  const layout = document.querySelector("[data-vs]");
  window.monacoReady = new Promise(function (resolve, reject) {
    require.config({ paths: { vs: layout.dataset.vs } });
    require(["vs/editor/editor.main"], function () {
      document.body.dataset.monaco = "ready";
      resolve(window.monaco);
    }, reject);
  });
})();
