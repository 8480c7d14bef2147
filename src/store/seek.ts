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
 * list whose generation differs from the remembered one starts afresh, unless every change since fell
 * before its first remembered row or after its last (new tokens at the head of a newest-first list,
 * expired ones leaving its tail), which its tallies and two short counts can prove (`rebased`): then
 * its rows are kept, shifted. Positions are forgotten after `ttlMs` whatever happens (a database
 * restored from a backup can repeat generations). A change committed while positions are being learnt
 * makes them be thrown away (`deepStart`), so remembered rows always describe their generation.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Db } from './database.js';

/** A row's place in a list: its 0-based position in the list's order and its sort values, id last. */
export interface Mark {
  at: number;
  values: unknown[];
}

/**
 * A list's kept total and its generation (see the module comment). With the birth and tallies as well
 * (token lists, migration 0014), remembered rows can outlive changes that fell outside them (`rebased`).
 */
export interface Generation {
  total: number;
  generation: number;
  born?: number;
  joins?: number;
  leaves?: number;
  moves?: number;
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
    readonly g: Generation,
    readonly until: number,
  ) {}
}

/** The rows a list remembered at an earlier generation, offered for `rebased`. */
export interface Remembered {
  g: Generation;
  marks: Mark[];
  until: number;
}

export interface PositionOptions {
  /** Rows between remembered ones, the most a page skips once its list is known (default 4096). */
  stride?: number;
  /** How long a list's positions are kept, at most (default 5 minutes). */
  ttlMs?: number;
  /** Lists remembered per database, least recently read forgotten first (default 256). */
  maxLists?: number;
  /** Rows remembered per list (default 4096: 16M rows at the default stride; about 100 bytes each). */
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
    this.maxLists = o.maxLists ?? 256;
    this.maxMarks = o.maxMarks ?? 4096;
  }

  /**
   * The positions remembered for `key` at generation `g`; or none, and then `key` starts afresh at `g`
   * (ask `earlier` first for what another generation left, to keep it with `rebase`).
   */
  marks(key: string, g: Generation, now = Date.now()): Mark[] {
    const list = this.current(key, now);
    if (list && same(list.g, g)) {
      this.lists.delete(key); // most recently read last
      this.lists.set(key, list);
      return list.marks;
    }
    this.start(key, g, now + this.ttlMs);
    return [];
  }

  /** What `key` remembered at a generation other than `g`, if anything (and its time has not run out). */
  earlier(key: string, g: Generation, now = Date.now()): Remembered | null {
    const list = this.current(key, now);
    return list && !same(list.g, g) && list.marks.length > 0 ? { g: list.g, marks: list.marks, until: list.until } : null;
  }

  /** Keeps `earlier`'s rows for generation `g`, each `shift` places further down the list. */
  rebase(key: string, earlier: Remembered, g: Generation, shift: number): Mark[] {
    const list = this.start(key, g, earlier.until); // the time a list's rows are kept runs from the first
    for (const m of earlier.marks) list.marks.push({ at: m.at + shift, values: m.values });
    return list.marks;
  }

  /** Remembers a row of `key` as read at generation `g`; not if the list has moved on since. */
  remember(key: string, g: Generation, mark: Mark): void {
    const list = this.lists.get(key);
    if (!list || !same(list.g, g) || list.marks.length >= this.maxMarks) return;
    const i = firstAtOrAfter(list.marks, mark.at);
    if (list.marks[i]?.at === mark.at) return;
    list.marks.splice(i, 0, mark);
  }

  private current(key: string, now: number): ListMarks | null {
    const list = this.lists.get(key);
    if (list && now < list.until) return list;
    this.lists.delete(key);
    return null;
  }

  private start(key: string, g: Generation, until: number): ListMarks {
    this.lists.delete(key);
    if (this.lists.size >= this.maxLists) this.lists.delete(this.lists.keys().next().value!);
    const list = new ListMarks(g, until);
    this.lists.set(key, list);
    return list;
  }

  forget(): void {
    this.lists.clear();
  }
}

const same = (a: Generation, b: Generation) => a.generation === b.generation && a.total === b.total;

/**
 * How far `earlier`'s rows moved down the list by generation `g`, if every change since fell outside
 * them, else null (start afresh). The tallies say how many tokens joined (`ins`) and left (`del`) and
 * that none moved; two counts bounded by a stride or so say where: with `hb` rows before the first
 * remembered row and `ta` after the last one then, and `before`, `after` now,
 * - before = hb + ins and after = ta - del: every new row came before the first (rows before it can
 *   only have grown by the new rows among them, minus the ones that left) and every row that left was
 *   after the last: each row is `ins` further down (new tokens at the head of a newest-first list,
 *   expired ones leaving its tail);
 * - before = hb - del and after = ta + ins: the other way round, each row `del` further up.
 * A remembered row that left is neither before the first nor after the last, so neither case holds.
 */
export async function rebased(
  earlier: Remembered,
  g: Generation,
  count: (mark: Mark, side: 'before' | 'after', atMost: number) => Promise<number>,
  reach: number,
): Promise<number | null> {
  const was = earlier.g;
  if ([g.born, g.joins, g.leaves, g.moves, was.born, was.joins, was.leaves, was.moves].some((v) => v === undefined)) return null;
  if (g.born !== was.born || g.moves !== was.moves) return null;
  const ins = g.joins! - was.joins!;
  const del = g.leaves! - was.leaves!;
  if (ins < 0 || del < 0 || g.total !== was.total + ins - del) return null;
  const first = earlier.marks[0]!;
  const last = earlier.marks.at(-1)!;
  const hb = first.at;
  const ta = was.total - 1 - last.at;
  if (hb > reach || ta > reach || ins + del > reach) return null; // the counts would cost as much as a walk
  const before = await count(first, 'before', hb + ins + 1);
  const after = await count(last, 'after', ta + ins + 1);
  if (before === hb + ins && after === ta - del) return ins;
  if (before === hb - del && after === ta + ins) return -del;
  return null;
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
 * The rows at a remembered row (unless not `inclusive`) or beyond it in the scan's direction, as a keyset condition over the
 * list's order (`order`: column and whether the list sorts it descending, id last, so that the values
 * name one row): lexicographically, with the first column's bound alone too, for the index's range.
 */
export function fromMark(eb: ExpressionBuilder<any, any>, order: Array<[string, boolean]>, values: unknown[], reverse: boolean, inclusive = true): Expression<SqlBool> {
  const down = order.map(([, desc]) => desc !== reverse);
  const last = order.length - 1;
  const terms = order.map(([column], i) =>
    eb.and([
      ...order.slice(0, i).map(([prior], j) => eb(prior, '=', values[j])),
      eb(column, i === last && inclusive ? (down[i] ? '<=' : '>=') : down[i] ? '<' : '>', values[i]),
    ]),
  );
  return eb.and([eb(order[0]![0], down[0] ? '<=' : '>=', values[0]), eb.or(terms)]);
}

/** The reads of one list that `deepStart` makes. */
export interface ListReads {
  /** The list's generation now (read again after the reads that learn positions). */
  generation(): Promise<Generation>;
  /** The sort values of the row `skip` rows from `start` in the scan's direction. */
  valuesAt(start: Start, skip: number): Promise<unknown[] | null>;
  /** How many rows are before (or after) a remembered row in the list's order, counting no further than `atMost`. */
  countBeside(mark: Mark, side: 'before' | 'after', atMost: number): Promise<number>;
}

/**
 * Where to read rows `offset` to `offset + limit - 1` of list `key` from, at generation `g`: from
 * what is remembered (kept across changes outside it when `rebased` allows), and farther than a stride
 * from all of it, walking there a stride at a time. What the counts and the walk learn is kept only
 * if the list's generation is still `g` after them: then no change committed while they ran, and they
 * saw the list at `g` (a change made meanwhile would label a newer list's rows with `g`).
 */
export async function deepStart(p: Positions, key: string, g: Generation, offset: number, limit: number, reads: ListReads): Promise<{ start: Start; skip: number }> {
  const stride = p.stride;
  const unchanged = async () => same(await reads.generation(), g);
  const earlier = p.earlier(key, g);
  const shift = earlier ? await rebased(earlier, g, reads.countBeside, 2 * stride) : null;
  const marks = earlier && shift !== null && (await unchanged()) ? p.rebase(key, earlier, g, shift) : p.marks(key, g);
  let { start, skip } = nearestStart(marks, g.total, offset, limit);
  if (skip < stride) return { start, skip };
  const found: Mark[] = [];
  while (skip >= stride) {
    p.steps++;
    const values = await reads.valuesAt(start, stride);
    if (!values) return { start, skip }; // the list shrank under us: read from where we are
    start = { at: start.reverse ? start.at - stride : start.at + stride, values, reverse: start.reverse };
    skip -= stride;
    found.push({ at: start.at, values });
  }
  // A remembered row near each end, so that the next change at an end can be counted past (`rebased`).
  for (const edge of [{ at: 0, values: null, reverse: false }, { at: g.total - 1, values: null, reverse: true }]) {
    if ([...marks, ...found].some((m) => Math.abs(m.at - edge.at) <= 2 * stride)) continue;
    p.steps++;
    const values = await reads.valuesAt(edge, stride);
    if (values) found.push({ at: edge.reverse ? edge.at - stride : stride, values });
  }
  if (await unchanged()) for (const m of found) p.remember(key, g, m);
  return { start, skip };
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
