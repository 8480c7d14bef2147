/** Row <-> entity mapping shared by the store modules. */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Scope } from '../domain/scope.js';
import type { Tags } from '../domain/model.js';
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

