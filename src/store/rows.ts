/** Row <-> entity mapping shared by the store modules. */
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Scope } from '../domain/scope.js';
import type { ScopedEntity, Tags } from '../domain/model.js';
import type { Database } from './schema.js';
import type { ListQuery, ListResult, SortField, SortOrder } from '../domain/paging.js';
import type { Db } from './database.js';
import { deepStart, fromMark, nearestStart, positionsOf, type Generation, type ListReads, type Start } from './seek.js';

export type { ListQuery, ListResult, SortField, SortOrder };

export function scopeColumns(s: Scope): { account_id: string; org_id: string; project_id: string } {
  return { account_id: s.accountId, org_id: s.orgId ?? '', project_id: s.projectId ?? '' };
}

export function rowScope(r: { account_id: string; org_id: string; project_id: string }): Scope {
  return { accountId: r.account_id, orgId: r.org_id === '' ? null : r.org_id, projectId: r.project_id === '' ? null : r.project_id };
}

export function parseTags(s: string): Tags {
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Tags) : {};
  } catch {
    return {};
  }
}

/** The columns every scoped entity has, as its fields (domain/model.ts `ScopedEntity`). */
export function entityOf(r: EntityRow): ScopedEntity {
  return { id: r.id, scope: rowScope(r), identifier: r.identifier, name: r.name, description: r.description, tags: parseTags(r.tags), createdAt: r.created_at, updatedAt: r.updated_at };
}
/**
 * A row's entity fields followed by `more`, one object: what a row mapper returns. Not written
 * `{ ...entityOf(r), a, b, ... }`: in Node 20's V8 an object literal that begins with a spread and then
 * adds properties makes a new hidden class for every property it adds, about 1 us each (a 21-field
 * API key row took 13 us to map that way, 0.2 us this way; bench/management.ts lists map 100 rows a page).
 */
export function entityWith<T extends object>(r: EntityRow, more: T): ScopedEntity & T {
  return Object.assign(entityOf(r), more);
}
type EntityRow = { id: string; account_id: string; org_id: string; project_id: string; identifier: string; name: string; description: string; tags: string; created_at: number; updated_at: number };

export const bool = (n: number): boolean => n === 1;
export const int = (b: boolean): number => (b ? 1 : 0);

/** Escapes LIKE wildcards so a search term is always matched literally (with `escape '\'`). */
export function likeContains(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `lower(column) LIKE '%term%' ESCAPE '\'`, the same on SQLite and PostgreSQL. */
export function containsCi(column: string, term: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${likeContains(term)} escape '\\'`;
}


export const SORT_COLUMNS: Record<SortField, 'created_at' | 'updated_at' | 'name' | 'identifier'> = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  name: 'name',
  identifier: 'identifier',
};


/** Search over name and identifier (`SEARCH`), and over tags too (`SEARCH_WITH_TAGS`). */
export const SEARCH = ['name', 'identifier'];
export const SEARCH_WITH_TAGS = ['name', 'identifier', 'tags'];
/** Harness's default list order: most recently updated first. */
export const NEWEST_FIRST: SortOrder[] = [{ field: 'updatedAt', desc: true }];

/** How one table is listed a page at a time (see `pagedList`). */
export interface PageSpec<T> {
  /** Columns a `search` term is matched against (case-insensitive, literally); without them the term is ignored. */
  search?: string[];
  /** Columns a `search` term matches exactly (an id), besides those. */
  searchExact?: string[];
  /** Whether `identifiers` narrows the list. */
  identifiers?: boolean;
  /** The order when the query names none; `false`: this list has a fixed order and ignores `sort`. */
  defaultSort?: SortOrder[] | false;
  /** Ordered by these after the sort, so pages are stable (default: id). */
  then?: string[];
  /** The table the sort and identifier columns belong to, when the query joins another. */
  table?: string;
  /** The selection (default: every column). */
  select?: (base: SelectQueryBuilder<Database, any, object>) => SelectQueryBuilder<Database, any, any>;
  map: (row: any) => T;
  /**
   * The number of rows `base` holds, kept rather than counted (token lists: migration 0011), and the
   * list's generation (migration 0014), for pages that nothing narrows further (no identifiers, no
   * search term). With it no `count(*)` runs, and a page nearer the end of the list than its start is
   * read from the end, in the reverse order.
   */
  total?: () => Promise<Generation>;
  /**
   * The rows with these ids (any order). With it, a page that skips many rows first reads only the
   * ids in list order (from the list's index alone, which ends with id), then the rows by primary key.
   */
  rowsByIds?: (ids: string[]) => Promise<any[]>;
  /**
   * Remembered positions for deep pages (store/seek.ts), when `total` gives the list's generation:
   * the database, and a key naming the rows `base` holds (the sort is added to it).
   */
  positions?: { db: Db; list: string };
}

/** From how many skipped rows a page reads its ids first (`PageSpec.rowsByIds`). */
const DEFER_AFTER = 1000;

/**
 * The paged list query, the one every list of the store runs: `base` (the table, narrowed to its
 * scope) narrowed by identifiers and a literal search, sorted, one page of it and the total count
 * (`count(*)`, or the kept total when the spec has one and nothing narrowed `base`).
 */
export async function pagedList<T>(
  base: SelectQueryBuilder<Database, any, object>,
  q: { offset: number; limit: number; search?: string | undefined; identifiers?: string[] | undefined; sort?: SortOrder[] | undefined },
  spec: PageSpec<T>,
): Promise<ListResult<T>> {
  const col = (c: string) => (spec.table ? `${spec.table}.${c}` : c);
  let b = base;
  let narrowed = false;
  if (spec.identifiers && q.identifiers && q.identifiers.length > 0) {
    b = b.where(col('identifier'), 'in', q.identifiers);
    narrowed = true;
  }
  const term = q.search;
  if (term && spec.search) {
    b = b.where((eb) => eb.or([...spec.search!.map((c) => containsCi(c, term)), ...(spec.searchExact ?? []).map((c) => eb(c, '=', term))]));
    narrowed = true;
  }
  const sorted = spec.defaultSort === false ? [] : (q.sort ?? spec.defaultSort ?? []);
  const order: Array<[string, boolean]> = [...sorted.map((s): [string, boolean] => [col(SORT_COLUMNS[s.field]), s.desc]), ...(spec.then ?? ['id']).map((c): [string, boolean] => [col(c), false])];
  /** `rows` from `start` on (a remembered row, or an end of the list), in the scan's direction. */
  const fromStart = <Q extends SelectQueryBuilder<Database, any, any>>(rows: Q, start: Start): Q => {
    let q = start.values ? rows.where((eb) => fromMark(eb, order, start.values!, start.reverse)) : rows;
    for (const [c, desc] of order) q = q.orderBy(c, desc !== start.reverse ? 'desc' : 'asc');
    return q as Q;
  };
  /** `limit` rows from `start` on, after skipping `skip`, in the scan's direction. */
  const page = async (start: Start, skip: number, limit: number): Promise<any[]> => {
    const byIds = spec.rowsByIds;
    const deferred = byIds && skip >= DEFER_AFTER;
    const rows = deferred ? b.select(col('id')) : spec.select ? spec.select(b) : b.selectAll();
    const found = await fromStart(rows, start).offset(skip).limit(limit).execute();
    if (!deferred) return found;
    const ids = found.map((r) => String(r['id']));
    const byId = new Map((await byIds(ids)).map((r: { id: string }) => [r.id, r]));
    return ids.flatMap((id: string) => byId.get(id) ?? []);
  };
  /** The sort values of the row `skip` rows from `start` in the scan's direction (index only). */
  const valuesAt = async (start: Start, skip: number): Promise<unknown[] | null> => {
    const row = await fromStart(b.select(order.map(([c]) => c)), start).offset(skip).limit(1).executeTakeFirst();
    return row ? order.map(([c]) => (row as Record<string, unknown>)[c.slice(c.indexOf('.') + 1)]) : null;
  };
  const head: Start = { at: 0, values: null, reverse: false };
  if (spec.total && !narrowed) {
    if (q.offset === 0) {
      // The first page reads forward whatever the total: both at once.
      const [items, g] = await Promise.all([page(head, 0, q.limit), spec.total()]);
      return { items: items.map(spec.map), total: g.total };
    }
    const g = await spec.total();
    const total = g.total;
    const left = total - q.offset; // rows from the page's first to the list's last
    if (left <= 0) return { items: [], total };
    const limit = Math.min(q.limit, left);
    // Skipping rows costs a step each: start from whichever end, or remembered row, is nearest (the
    // order is total, ids last); farther than a stride from all of them, walk there (store/seek.ts).
    const reads: ListReads = {
      generation: spec.total,
      valuesAt,
      async countBeside(mark, side, atMost) {
        const beside = b.select(col('id')).where((eb) => fromMark(eb, order, mark.values, side === 'before', false)).limit(atMost);
        const r = await spec.positions!.db.selectFrom(beside.as('beside')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return Number(r.n);
      },
    };
    // Not inside a transaction: what it reads may never commit, and SQLite's generation counter then
    // goes back and gives the same generation to another change.
    const { start, skip } = spec.positions && !spec.positions.db.isTransaction
      ? await deepStart(positionsOf(spec.positions.db), `${spec.positions.list}|${JSON.stringify(order)}`, g, q.offset, limit, reads)
      : nearestStart([], total, q.offset, limit);
    const items = await page(start, skip, limit);
    return { items: (start.reverse ? items.reverse() : items).map(spec.map), total };
  }
  const [items, count] = await Promise.all([page(head, q.offset, q.limit), b.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()]);
  return { items: items.map(spec.map), total: Number(count.n) };
}
