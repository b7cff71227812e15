// What changed in the mapping matrices between two reports of runs on the same
// document (the dry-run view marks it after a re-run). Pure: plain data in, plain
// data out, no DOM, so it can be tested on its own.
//
// Tables are matched by sheet and by their order among the tables with data rows on
// that sheet (a title that becomes a data-less block does not shift them); physical
// columns by their letter; fields by key. A cell changed when its score differs at
// the precision the matrix shows (two decimals) or it won and no longer does (or the
// reverse). A column or field present on one side only is new or removed.

/** Scores as the matrix shows them (two decimals): equal here means "no change". */
export function sameScore(a, b) {
  return Math.round((a ?? 0) * 100) === Math.round((b ?? 0) * 100);
}

function tableKeys(report) {
  const seen = new Map();
  const out = new Map(); // key -> index in report.tables
  for (const [i, table] of (report?.tables || []).entries()) {
    if (!table.rows) continue;
    const n = seen.get(table.sheet) || 0;
    seen.set(table.sheet, n + 1);
    out.set(`${table.sheet}\u0000${n}`, i);
  }
  return out;
}

function fieldKeys(table) {
  const keys = new Set();
  for (const col of table.columns || []) for (const key of Object.keys(col.scores || {})) keys.add(key);
  return keys;
}

/**
 * The changes in one table: ``cells`` [{column, field, was, now, wasWinner,
 * isWinner}], ``mapped`` [{column, was, now}] (the column's winning field changed),
 * ``newColumns`` / ``removedColumns`` (sheet column letters; removed ones with their
 * header), ``newFields`` / ``removedFields`` (field keys).
 */
export function diffTable(before, after) {
  const fieldsBefore = fieldKeys(before);
  const fieldsAfter = fieldKeys(after);
  const columnsBefore = new Map((before.columns || []).map((c) => [c.column, c]));
  const columnsAfter = new Set((after.columns || []).map((c) => c.column));
  const out = {
    cells: [], mapped: [],
    newColumns: [...columnsAfter].filter((c) => !columnsBefore.has(c)),
    removedColumns: [...columnsBefore.values()].filter((c) => !columnsAfter.has(c.column))
      .map((c) => ({ column: c.column, header: c.header ?? null })),
    newFields: [...fieldsAfter].filter((f) => !fieldsBefore.has(f)),
    removedFields: [...fieldsBefore].filter((f) => !fieldsAfter.has(f)),
  };
  for (const col of after.columns || []) {
    const old = columnsBefore.get(col.column);
    if (!old) continue;
    if ((old.field ?? null) !== (col.field ?? null)) out.mapped.push({ column: col.column, was: old.field ?? null, now: col.field ?? null });
    for (const field of fieldsAfter) {
      if (!fieldsBefore.has(field)) continue;
      const was = old.scores?.[field] ?? 0;
      const now = col.scores?.[field] ?? 0;
      const wasWinner = old.field === field;
      const isWinner = col.field === field;
      if (wasWinner !== isWinner || !sameScore(was, now)) out.cells.push({ column: col.column, field, was, now, wasWinner, isWinner });
    }
  }
  return out;
}

/** How many marks a table's changes make (cells, new and removed columns and fields). */
export function changeCount(t) {
  return t.cells.length + t.newColumns.length + t.removedColumns.length + t.newFields.length + t.removedFields.length;
}

/**
 * What changed from report ``before`` to report ``after``: ``tables`` maps an index
 * of ``after.tables`` to its changes (tables with data rows only; ``isNew`` when
 * ``before`` had no such table), ``removedTables`` [{sheet, range}] the tables with
 * data that are gone, ``count`` the number of marks in all. ``before`` null (no
 * previous run to compare with) gives null.
 */
export function diffReports(before, after) {
  if (!before || !after) return null;
  const keysBefore = tableKeys(before);
  const keysAfter = tableKeys(after);
  const tables = {};
  let count = 0;
  for (const [key, i] of keysAfter) {
    const table = after.tables[i];
    if (!keysBefore.has(key)) {
      tables[i] = { isNew: true, cells: [], mapped: [], newColumns: [], removedColumns: [], newFields: [], removedFields: [] };
      count += 1;
      continue;
    }
    const changes = { isNew: false, ...diffTable(before.tables[keysBefore.get(key)], table) };
    tables[i] = changes;
    count += changeCount(changes);
  }
  const removedTables = [...keysBefore].filter(([key]) => !keysAfter.has(key))
    .map(([, i]) => ({ sheet: before.tables[i].sheet, range: before.tables[i].range }));
  count += removedTables.length;
  return { tables, removedTables, count };
}
