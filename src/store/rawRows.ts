/**
 * SQLite rows as objects, made the fast way, for the hot reads compiled once (store/prepared.ts).
 * better-sqlite3 builds each row object property by property; for the 23 columns of an API key row
 * that cost about 5 us a row, more than the rest of the read (the NG aggregate read of a key: 12 us
 * with object rows, 8 us this way). Instead the statement returns its rows as arrays (`raw` mode) and
 * each becomes an object through a builder made once per statement: one object literal with the
 * columns' names as its keys, in order, so every row has the same shape from the start.
 */
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The function that makes a row object from a raw row of a statement with these columns. The names
 * are the statement's own result columns (of SQL Keyward builds, never of input), written into the
 * function's source as JSON string literals; a repeated name keeps its last value, as better-sqlite3's
 * own object rows do.
 */
export function rowBuilder<Row>(names: readonly string[]): (r: unknown[]) => Row {
  const fields = names.map((n, i) => `${JSON.stringify(n)}: r[${i}]`).join(', ');
  return new Function('r', `return { ${fields} };`) as (r: unknown[]) => Row;
}

/**
 * A reading statement's rows as objects. The builder is made from the statement's columns, and made
 * again when a row's length says they changed: SQLite prepares a statement again by itself after a
 * schema change (a migration adding a column to a table the statement reads with `*`), and then its
 * columns are the new ones.
 */
export function objectRows<Row>(stmt: BetterSqlite3.Statement): (params: readonly unknown[]) => Row[] {
  const rawStmt = stmt.raw(true);
  let names = rawStmt.columns().map((c) => c.name);
  let row = rowBuilder<Row>(names);
  return (params) => {
    const rows = rawStmt.all(...params) as unknown[][];
    if (rows.length > 0 && rows[0]!.length !== names.length) {
      names = rawStmt.columns().map((c) => c.name);
      row = rowBuilder<Row>(names);
    }
    return rows.map(row);
  };
}
