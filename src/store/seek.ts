/**
 * Remembered positions, so that a page deep inside a long list does not step over every row before it.
 *
 * The protocols page by number (Harness NG `pageIndex`, ZenML `page`, native `offset`), with no cursor
 * to seek from, and a database skips an offset one index entry at a time: 500,000 entries for the middle
 * page of a million tokens (40 ms on SQLite, 110 ms on PostgreSQL, docs/benchmarks.md). Here a node
 * remembers, per list and per database, where some rows stood: their position and their sort values (id
 * last, so each names one row). A page then starts from the nearest remembered row, or the nearer end of
 * the list, with a keyset condition (an index seek) and skips at most a stride. A page farther than a
 * stride from everything known walks there a stride at a time (one short query each) and remembers each
 * row it lands on, so the first deep page costs about what the plain offset did, and every later page of
 * the same list, anywhere, costs one stride at most.
 *
 * Positions hold only while the list is as it was: each list carries a generation that changes whenever
 * a row joins, leaves or moves in it (token lists: migration 0014), read with the list's kept total. A
 * list whose generation or total differs from the remembered one starts afresh, and positions are
 * forgotten after `ttlMs` whatever happens (a database restored from a backup can repeat generations).
 * Remembered rows that a concurrent change made stale are never used past the change: the change gave
 * the list a new generation.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Db } from './database.js';

/** A row's place in a list: its 0-based position in the list's order and its sort values, id last. */
export interface Mark {
  at: number;
  values: unknown[];
}

/** A list's kept total and its generation (see the module comment). */
export interface Generation {
  total: number;
  generation: number;
}

/** Where a page read starts: a remembered row (or an end of the list: `values` null) and its direction. */
export interface Start {
  at: number;
  values: unknown[] | null;
  /** Whether the read runs against the list's order (from a row after the page, or from the end). */
  reverse: boolean;
}

class ListMarks {
  readonly marks: Mark[] = [];
  constructor(
    readonly generation: number,
    readonly total: number,
    readonly until: number,
  ) {}
}

export interface PositionOptions {
  /** Rows between remembered ones, the most a page skips once its list is known (default 4096). */
  stride?: number;
  /** How long a list's positions are kept, at most (default 5 minutes). */
  ttlMs?: number;
  /** Lists remembered per database, least recently read forgotten first (default 1000). */
  maxLists?: number;
  /** Rows remembered per list (default 8192: 33M rows at the default stride). */
  maxMarks?: number;
}

/** One database's remembered positions, for every list that has been paged deep. */
export class Positions {
  readonly stride: number;
  private readonly ttlMs: number;
  private readonly maxLists: number;
  private readonly maxMarks: number;
  private readonly lists = new Map<string, ListMarks>();
  /** Walking steps taken (one query each), for tests and metrics. */
  steps = 0;

  constructor(o: PositionOptions = {}) {
    this.stride = o.stride ?? 4096;
    this.ttlMs = o.ttlMs ?? 300_000;
    this.maxLists = o.maxLists ?? 1000;
    this.maxMarks = o.maxMarks ?? 8192;
  }

  /** The positions remembered for `key` at generation `g`, or none (and `key` starts afresh). */
  marks(key: string, g: Generation, now = Date.now()): Mark[] {
    const list = this.lists.get(key);
    if (list && list.generation === g.generation && list.total === g.total && now < list.until) {
      this.lists.delete(key); // most recently read last
      this.lists.set(key, list);
      return list.marks;
    }
    this.lists.delete(key);
    if (this.lists.size >= this.maxLists) this.lists.delete(this.lists.keys().next().value!);
    this.lists.set(key, new ListMarks(g.generation, g.total, now + this.ttlMs));
    return [];
  }

  /** Remembers a row of `key` as read at generation `g`; not if the list has moved on since. */
  remember(key: string, g: Generation, mark: Mark): void {
    const list = this.lists.get(key);
    if (!list || list.generation !== g.generation || list.total !== g.total || list.marks.length >= this.maxMarks) return;
    const i = firstAtOrAfter(list.marks, mark.at);
    if (list.marks[i]?.at === mark.at) return;
    list.marks.splice(i, 0, mark);
  }

  forget(): void {
    this.lists.clear();
  }
}

/** The index of the first mark at `at` or after it (marks are sorted by position). */
function firstAtOrAfter(marks: Mark[], at: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]!.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where to read rows `offset` to `offset + limit - 1` of a list of `total` from, skipping the fewest
 * rows: the start or the end of the list, or the nearest remembered row before or after the page.
 */
export function nearestStart(marks: Mark[], total: number, offset: number, limit: number): { start: Start; skip: number } {
  const last = offset + limit - 1;
  let best: { start: Start; skip: number } = { start: { at: 0, values: null, reverse: false }, skip: offset };
  const consider = (start: Start, skip: number) => {
    if (skip < best.skip) best = { start, skip };
  };
  consider({ at: total - 1, values: null, reverse: true }, total - 1 - last);
  const i = firstAtOrAfter(marks, offset);
  const before = marks[marks[i]?.at === offset ? i : i - 1];
  if (before) consider({ at: before.at, values: before.values, reverse: false }, offset - before.at);
  const after = marks[firstAtOrAfter(marks, last)];
  if (after) consider({ at: after.at, values: after.values, reverse: true }, after.at - last);
  return best;
}

/**
 * The rows at a remembered row or beyond it in the scan's direction, as a keyset condition over the
 * list's order (`order`: column and whether the list sorts it descending, id last, so that the values
 * name one row): lexicographically, with the first column's bound alone too, for the index's range.
 */
export function fromMark(eb: ExpressionBuilder<any, any>, order: Array<[string, boolean]>, values: unknown[], reverse: boolean): Expression<SqlBool> {
  const down = order.map(([, desc]) => desc !== reverse);
  const last = order.length - 1;
  const terms = order.map(([column], i) =>
    eb.and([
      ...order.slice(0, i).map(([prior], j) => eb(prior, '=', values[j])),
      eb(column, i === last ? (down[i] ? '<=' : '>=') : down[i] ? '<' : '>', values[i]),
    ]),
  );
  return eb.and([eb(order[0]![0], down[0] ? '<=' : '>=', values[0]), eb.or(terms)]);
}

const perDatabase = new WeakMap<object, Positions>();

/**
 * The positions remembered for `db`'s database. Keyed by its Kysely adapter, which a database's
 * transactions share with it and no other database has.
 */
export function positionsOf(db: Db): Positions {
  const key = db.getExecutor().adapter;
  let p = perDatabase.get(key);
  if (!p) perDatabase.set(key, (p = new Positions()));
  return p;
}

/** Sets how `db`'s positions are kept (tests use a short stride to walk small lists). */
export function configurePositions(db: Db, o: PositionOptions): Positions {
  const p = new Positions(o);
  perDatabase.set(db.getExecutor().adapter, p);
  return p;
}
