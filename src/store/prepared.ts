/**
 * Hot reads compiled once. Kysely builds and compiles a query on every call, which costs more than
 * running a point read; for the few reads on a hot path (the verification miss, the NG aggregate
 * read of a key) the statement is built by the same query builder once, with marker values in
 * place of the arguments, and then run as a prepared statement: on SQLite a better-sqlite3
 * statement per database handle, run at the end of the event-loop turn together with the turn's other
 * hot reads, in one read transaction (`turnReads`: SQLite's read lock once, not once per read; when a
 * write transaction is open on the connection, whose uncommitted writes a raw read would see, the reads
 * go through Kysely, which waits for the transaction to end); on PostgreSQL a named prepared statement,
 * parsed and planned once per pooled connection (the schema comes from search_path, so one text serves
 * every pool).
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
      return store.health.run(() => turnReads(raw, () => all(order.map((i) => args[i])), () => build(store.db, args).execute()));
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

interface Pending {
  read: () => unknown;
  viaKysely: () => Promise<unknown>;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
}
const pendingOf = new WeakMap<BetterSqlite3.Database, Pending[]>();

/**
 * SQLite reads asked for in one turn of the event loop, run together at its end (`setImmediate`) in one
 * read transaction: in WAL mode each statement outside a transaction takes and drops SQLite's read lock,
 * two system calls (about 5 of the 7 us of a point read on this project's benchmark machine; 1.75 us
 * inside a transaction). The reads see the database as it is when the turn ends, which is when they
 * would have run had they come a moment later. Reads that find a write transaction open on the
 * connection go through Kysely, after it. A failing read fails alone.
 */
function turnReads<T>(raw: BetterSqlite3.Database, read: () => T, viaKysely: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let pending = pendingOf.get(raw);
    if (pending === undefined) pendingOf.set(raw, (pending = []));
    pending.push({ read, viaKysely, resolve, reject });
    if (pending.length === 1) setImmediate(() => flush(raw));
  });
}

function flush(raw: BetterSqlite3.Database): void {
  const pending = pendingOf.get(raw)!;
  pendingOf.set(raw, []);
  if (raw.inTransaction) {
    for (const p of pending) p.viaKysely().then(p.resolve, p.reject);
    return;
  }
  const together = pending.length > 1;
  try {
    if (together) raw.exec('BEGIN');
  } catch (e) {
    for (const p of pending) p.reject(e);
    return;
  }
  for (const p of pending) {
    try {
      p.resolve(p.read());
    } catch (e) {
      p.reject(e);
    }
  }
  if (together && raw.inTransaction) {
    try {
      raw.exec('COMMIT');
    } catch {
      // A read transaction has nothing to keep: end it whatever COMMIT said.
      if (raw.inTransaction) raw.exec('ROLLBACK');
    }
  }
}
