/**
 * Hot reads compiled once. Kysely builds and compiles a query on every call, which costs more than
 * running a point read; for the few reads on a hot path (the verification miss, the NG aggregate
 * read of a key) the statement is built by the same query builder once, with marker values in
 * place of the arguments, and then run as a prepared statement: on SQLite a better-sqlite3
 * statement per database handle, run synchronously (inside an open transaction on that connection,
 * whose uncommitted writes a raw read would see, it goes through Kysely, which waits for the
 * transaction to end); on PostgreSQL a named prepared statement, parsed and planned once per pooled
 * connection (the schema comes from search_path, so one text serves every pool).
 *
 * On SQLite the rows come as arrays and become objects through the statement's builder, as every
 * SQLite read's do (store/rawRows.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db, Store } from './database.js';
import { objectRows } from './rawRows.js';

/** What `build` gives: a Kysely query, compiled once here and executed directly only in a transaction. */
interface Query<Row> {
  compile(): { sql: string; parameters: readonly unknown[] };
  execute(): Promise<Row[]>;
}

/**
 * A read of `arity` arguments, named `name` (its PostgreSQL statement name, unique in the app).
 * `build` must pass each argument to the query as a value, unchanged.
 */
export function preparedRead<Row>(name: string, arity: number, build: (db: Db, args: readonly string[]) => Query<Row>): (store: Store, args: readonly string[]) => Promise<Row[]> {
  const marks = Array.from({ length: arity }, (_, i) => `\u0000keyward:${name}:${i}`);
  /** The SQL text, and which argument each of its parameters is. */
  const shape = (db: Db): { sql: string; order: number[] } => {
    const c = build(db, marks).compile();
    const order = c.parameters.map((p) => marks.indexOf(p as string));
    if (order.some((i) => i < 0)) throw new Error(`prepared read ${name}: a parameter is not one of its arguments`);
    return { sql: c.sql, order };
  };
  const sqlite = new WeakMap<BetterSqlite3.Database, { all: (params: readonly unknown[]) => Row[]; order: number[] }>();
  let pg: { sql: string; order: number[] } | null = null;
  return async (store, args) => {
    const raw = store.sqlite;
    if (raw !== null) {
      if (raw.inTransaction) return build(store.db, args).execute();
      let s = sqlite.get(raw);
      if (s === undefined) {
        const { sql, order } = shape(store.db);
        s = { all: objectRows<Row>(raw.prepare(sql)), order };
        sqlite.set(raw, s);
      }
      const { all, order } = s;
      return store.health.run(() => all(order.map((i) => args[i])));
    }
    const pool = store.pgPool;
    if (pool !== null) {
      const { sql, order } = (pg ??= shape(store.db));
      const { rows } = await store.health.run(() => pool.query({ name, text: sql, values: order.map((i) => args[i]) }));
      return rows as Row[];
    }
    return build(store.db, args).execute();
  };
}
