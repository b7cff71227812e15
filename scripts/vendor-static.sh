#!/usr/bin/env bash
# Copy the editor's and the API docs' browser assets from node_modules into the app's
# static folders (both gitignored). Run by `make setup-js` after `npm ci`.
#
# Monaco: the AMD build (min/vs) is the only one usable without a bundler. It is
# pruned for Python-only editing: the language services (language/: ts, css, html,
# json), their web workers and the translated UI strings (nls/lang/) are dropped.
# Python highlighting is the Monarch grammar in python-*.js (a basic language), and
# the editor and diff editor need only the generic editor worker (assets/editor.worker).
set -euo pipefail
cd "$(dirname "$0")/.."

MONACO=node_modules/monaco-editor
SWAGGER=node_modules/swagger-ui-dist
VS_OUT=app/editor/static/vs
SWAGGER_OUT=app/static/swagger-ui

[ -d "$MONACO/min/vs" ] || { echo "vendor-static: run npm ci first" >&2; exit 1; }

rm -rf "$VS_OUT"
mkdir -p "$VS_OUT"
cp -R "$MONACO/min/vs/." "$VS_OUT/"
rm -rf "$VS_OUT/language" "$VS_OUT/nls/lang"
rm -f "$VS_OUT"/assets/{css,html,json,ts}.worker-*.js
rm -f "$VS_OUT"/tsMode-*.js "$VS_OUT"/cssMode-*.js "$VS_OUT"/htmlMode-*.js \
    "$VS_OUT"/jsonMode-*.js
cp "$MONACO/LICENSE" "$MONACO/ThirdPartyNotices.txt" "$VS_OUT/"
cp "$MONACO/package.json" "$VS_OUT/monaco-package.json"

rm -rf "$SWAGGER_OUT"
mkdir -p "$SWAGGER_OUT"
for f in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css \
    favicon-16x16.png favicon-32x32.png LICENSE NOTICE package.json; do
    if [ -f "$SWAGGER/$f" ]; then cp "$SWAGGER/$f" "$SWAGGER_OUT/"; fi
done

echo "vendor-static: monaco $(du -sh "$VS_OUT" | cut -f1) in $VS_OUT," \
    "swagger-ui $(du -sh "$SWAGGER_OUT" | cut -f1) in $SWAGGER_OUT"
