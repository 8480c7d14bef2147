/** Row <-> entity mapping shared by the store modules. */
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Scope } from '../domain/scope.js';
import type { ScopedEntity, Tags } from '../domain/model.js';
import type { Database } from './schema.js';
import type { ListQuery, ListResult, SortField, SortOrder } from '../domain/paging.js';

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
}

/**
 * The paged list query, the one every list of the store runs: `base` (the table, narrowed to its
 * scope) narrowed by identifiers and a literal search, sorted, one page of it and the total count.
 */
export async function pagedList<T>(
  base: SelectQueryBuilder<Database, any, object>,
  q: { offset: number; limit: number; search?: string | undefined; identifiers?: string[] | undefined; sort?: SortOrder[] | undefined },
  spec: PageSpec<T>,
): Promise<ListResult<T>> {
  const col = (c: string) => (spec.table ? `${spec.table}.${c}` : c);
  let b = base;
  if (spec.identifiers && q.identifiers && q.identifiers.length > 0) b = b.where(col('identifier'), 'in', q.identifiers);
  const term = q.search;
  if (term && spec.search) {
    b = b.where((eb) => eb.or([...spec.search!.map((c) => containsCi(c, term)), ...(spec.searchExact ?? []).map((c) => eb(c, '=', term))]));
  }
  let rows = spec.select ? spec.select(b) : b.selectAll();
  const order = spec.defaultSort === false ? [] : (q.sort ?? spec.defaultSort ?? []);
  for (const s of order) rows = rows.orderBy(col(SORT_COLUMNS[s.field]), s.desc ? 'desc' : 'asc');
  for (const c of spec.then ?? ['id']) rows = rows.orderBy(col(c));
  const [items, count] = await Promise.all([
    rows.offset(q.offset).limit(q.limit).execute(),
    b.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: items.map(spec.map), total: Number(count.n) };
}
