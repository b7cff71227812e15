// Where a JSON path (``columns[1].path``, as the manifest check names places) is
// in a JSON text: a small scanner that records the position of every value. The
// manifest check works on parsed JSON, so the editor maps its paths to lines here.

function skip(text, i) {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

function stringEnd(text, i) {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** {jsonPath: offset} of every value (and key) in ``text``; stops at bad JSON. */
export function positions(text) {
  const out = new Map();
  function value(i, path) {
    i = skip(text, i);
    if (path) out.set(path, i);
    const c = text[i];
    if (c === "{") {
      i = skip(text, i + 1);
      while (i < text.length && text[i] !== "}") {
        const end = stringEnd(text, i);
        let key;
        try { key = JSON.parse(text.slice(i, end)); } catch { return text.length; }
        const child = path ? `${path}.${key}` : key;
        out.set(child, i); // the key's position names the entry
        i = skip(text, end);
        if (text[i] !== ":") return text.length;
        i = value(i + 1, null);
        i = skip(text, i);
        if (text[i] === ",") i = skip(text, i + 1);
        else break;
      }
      return i + 1;
    }
    if (c === "[") {
      i = skip(text, i + 1);
      let n = 0;
      while (i < text.length && text[i] !== "]") {
        i = value(i, `${path}[${n++}]`);
        i = skip(text, i);
        if (text[i] === ",") i = skip(text, i + 1);
        else break;
      }
      return i + 1;
    }
    if (c === '"') return stringEnd(text, i);
    while (i < text.length && !/[,}\]\s]/.test(text[i])) i++;
    return i;
  }
  try {
    value(0, "");
  } catch {
    // Bad JSON: what was found so far is still useful.
  }
  return out;
}

/** The 1-based line and 0-based column of ``where`` (or its nearest parent). */
export function locate(text, where) {
  const found = positions(text);
  let path = where || "";
  while (path && !found.has(path)) path = path.replace(/(\.[^.[\]]*|\[\d+\])$/, "");
  const offset = found.get(path) ?? 0;
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before[before.length - 1].length };
}
