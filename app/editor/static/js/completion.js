// Completion and hover for the script API, from the one description the server
// serves (GET /api/v1/script-api, made from runner/script_api.py): hook names
// with their signature, their keyword arguments, ctx members, field keys and the
// modules a script may import.
import { api } from "./api.js";

/** The hooks a script at ``path`` can define. */
function hooksFor(hooks, path) {
  const fits = (h) => {
    if (h.files === "columns/<key>.py") return path.startsWith("columns/");
    return h.files === path;
  };
  const own = hooks.filter(fits);
  return own.length ? own : hooks;
}

function hookDoc(h) {
  const args = h.args.map((a) => `* \`${a.name}\` (${a.type}): ${a.doc}`).join("\n");
  return `**${h.prefix ? h.name + "*" : h.name}** — ${h.files}, called ${h.when}.\n\n${h.doc}\n\n${args}\n\nReturns ${h.returns}.`;
}

/** The hook a function name is (``detect_email`` is ``detect``). */
function hookNamed(hooks, name) {
  return hooks.find((h) => name === h.name || (h.prefix && name.startsWith(h.name)));
}

/** The hook whose ``def`` line encloses ``lineNumber`` (the signature being typed). */
function enclosingDef(model, position) {
  const text = model.getValueInRange({ startLineNumber: Math.max(1, position.lineNumber - 6), startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
  const match = text.match(/def\s+(\w+)\s*\(([^)]*)$/s);
  return match ? match[1] : null;
}

export async function registerScriptApi(monaco) {
  const { data: desc } = await api("GET", "/script-api");
  const K = monaco.languages.CompletionItemKind;
  const pathOf = (model) => model.uri.path.slice(1);

  monaco.languages.registerCompletionItemProvider("python", {
    triggerCharacters: [".", "\"", "'", " ", "(", ","],
    provideCompletionItems(model, position) {
      const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      const word = model.getWordUntilPosition(position);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      if (/^\s*def\s+\w*$/.test(line)) {
        return {
          suggestions: hooksFor(desc.hooks, pathOf(model)).map((h) => {
            const name = h.prefix ? `${h.name}_` : h.name;
            const args = h.args.map((a) => a.name).join(", ");
            return {
              label: h.prefix ? `${h.name}…` : h.name,
              filterText: h.name,
              kind: K.Function,
              detail: h.signature,
              documentation: { value: hookDoc(h) },
              insertText: `${name}${h.prefix ? "${1:header}" : ""}(*, ${args}, **_):\n\t$0`,
              insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet,
              range,
            };
          }),
        };
      }
      if (/\bctx\.\w*$/.test(line)) {
        return { suggestions: desc.ctx.map((c) => ({ label: c.name, kind: c.type.startsWith("(") ? K.Method : K.Property, detail: c.type, documentation: c.doc, insertText: c.name, range })) };
      }
      if (/\bfield(?:\[|\.get\()\s*["']\w*$/.test(line)) {
        return { suggestions: desc.field.map((f) => ({ label: f.name, kind: K.Field, detail: f.type, documentation: f.doc, insertText: f.name, range })) };
      }
      if (/^\s*(import|from)\s+[\w.]*$/.test(line)) {
        return { suggestions: desc.imports.map((mod) => ({ label: mod, kind: K.Module, detail: "allowed import", insertText: mod, range })) };
      }
      const inDef = enclosingDef(model, position);
      const hook = inDef && hookNamed(desc.hooks, inDef);
      if (hook) {
        return { suggestions: hook.args.map((a) => ({ label: a.name, kind: K.Variable, detail: a.type, documentation: a.doc, insertText: a.name, range })) };
      }
      return { suggestions: [] };
    },
  });

  monaco.languages.registerHoverProvider("python", {
    provideHover(model, position) {
      const word = model.getWordAtPosition(position);
      if (!word) return null;
      const line = model.getLineContent(position.lineNumber);
      const before = line.slice(0, word.startColumn - 1);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      if (/def\s+$/.test(before)) {
        const hook = hookNamed(desc.hooks, word.word);
        if (hook) return { range, contents: [{ value: "```python\n" + hook.signature + "\n```" }, { value: hookDoc(hook) }] };
      }
      if (/\bctx\.$/.test(before)) {
        const member = desc.ctx.find((c) => c.name === word.word);
        if (member) return { range, contents: [{ value: `**ctx.${member.name}** (${member.type}): ${member.doc}` }] };
      }
      if (/\bfield(?:\[|\.get\()\s*["']$/.test(before)) {
        const key = desc.field.find((f) => f.name === word.word);
        if (key) return { range, contents: [{ value: `**field["${key.name}"]** (${key.type}): ${key.doc}` }] };
      }
      const inDef = enclosingDef(model, { lineNumber: position.lineNumber, column: word.startColumn });
      const hook = inDef && hookNamed(desc.hooks, inDef);
      const arg = hook?.args.find((a) => a.name === word.word);
      if (arg) return { range, contents: [{ value: `**${arg.name}** (${arg.type}) — ${hook.name}: ${arg.doc}` }] };
      return null;
    },
  });
  return desc;
}
