/**
 * Request plumbing for Harness NG: authentication and account resolution (docs/compat/harness-ng.md), query
 * parameters as JAX-RS converts them, bodies as Jackson reads them, and the PageResponse shape.
 */
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import type { Verified } from '../../services/verification.js';
import { makeScope, type Scope } from '../../domain/scope.js';
import type { FieldViolation } from '../../domain/errors.js';
import type { Tags } from '../../domain/model.js';
import { checkDescription, checkIdentifier, checkName, checkTags, findNul, NUL_RULE } from '../../domain/validation.js';
import type { SortOrder, SortField } from '../../domain/paging.js';
import { authenticate, callerOf } from '../auth/index.js';
import { NgError, ngFailure, ngInvalidToken, ngResourceNotFound } from './errors.js';

export interface NgContext {
  caller: Caller;
  verified: Verified;
  /** The request's account: Harness-Account, account, accountIdentifier, path, then the token's own. */
  accountId: string;
}

type Query = Record<string, string | string[] | undefined>;
const query = (req: FastifyRequest): Query => (req.query ?? {}) as Query;

export function one(req: FastifyRequest, name: string): string | undefined {
  const v = query(req)[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s;
}

/** A present, non-blank query value, or undefined. */
export function opt(req: FastifyRequest, name: string): string | undefined {
  const v = one(req, name);
  return v === undefined || v.trim() === '' ? undefined : v;
}

export function many(req: FastifyRequest, name: string): string[] {
  const v = query(req)[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((s) => s !== '');
}

export async function ngAuth(services: Services, req: FastifyRequest): Promise<NgContext> {
  const v = await authenticate(services, req);
  if (!v.valid) throw ngInvalidToken(req);
  const header = req.headers['harness-account'];
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const named = [typeof header === 'string' && header !== '' ? header : undefined, opt(req, 'account'), opt(req, 'accountIdentifier'), params.accountIdentifier];
  // A token only ever acts in its own account; naming another one anywhere is "Invalid account token access"
  // (Harness validates the first and operates on accountIdentifier, so every mention must agree).
  if (named.some((a) => a !== undefined && a !== v.accountId)) throw ngInvalidToken(req);
  return { caller: callerOf(v, req), verified: v, accountId: v.accountId };
}

/** @NotNull query parameters: a FAILURE naming every missing one. */
export function required(req: FastifyRequest, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const v = opt(req, n);
    if (v === undefined) missing.push(n);
    else out[n] = v;
  }
  if (missing.length > 0) throw ngFailure(req, missing.map((field) => ({ field, message: 'must not be null' })));
  return out;
}

/** An enum query parameter; JAX-RS answers an unconvertible value with NotFound (400 RESOURCE_NOT_FOUND_EXCEPTION). */
export function enumParam<T extends string>(req: FastifyRequest, name: string, values: readonly T[]): T | undefined {
  const v = opt(req, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw ngResourceNotFound(req);
  return v as T;
}

export function longParam(req: FastifyRequest, name: string): number | undefined {
  const v = opt(req, name);
  if (v === undefined) return undefined;
  if (!/^-?\d{1,16}$/.test(v.trim())) throw ngResourceNotFound(req);
  return Number(v.trim());
}

export function boolParam(req: FastifyRequest, name: string): boolean | undefined {
  const v = opt(req, name);
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  // JAX-RS's Boolean.valueOf: "true" (any case) is true, anything else false.
  return l === 'true';
}

export function scopeFrom(req: FastifyRequest, accountId: string): Scope {
  return makeScope(accountId, opt(req, 'orgIdentifier') ?? null, opt(req, 'projectIdentifier') ?? null);
}

// ---- paging and sorting (PageRequest, PageResponse) ---------------------------------------------

const SORT_FIELDS: Record<string, SortField> = {
  lastModifiedAt: 'updatedAt',
  lastmodifiedat: 'updatedAt',
  createdAt: 'createdAt',
  createdat: 'createdAt',
  name: 'name',
  identifier: 'identifier',
};

/** `field,DESC`, Go's `{field DESC}` rendering of a SortOrder struct, or its JSON form. */
export function parseSortOrder(raw: string): SortOrder | null {
  let field: string | undefined;
  let dir: string | undefined;
  const t = raw.trim();
  if (t.startsWith('{') && t.includes(':')) {
    try {
      const o = JSON.parse(t) as { fieldName?: string; orderType?: string };
      field = o.fieldName;
      dir = o.orderType;
    } catch {
      return null;
    }
  } else if (t.startsWith('{') && t.endsWith('}')) {
    [field, dir] = t.slice(1, -1).trim().split(/\s+/);
  } else {
    [field, dir] = t.split(',').map((s) => s.trim());
  }
  const f = field ? SORT_FIELDS[field] : undefined;
  if (!f) return null;
  // Harness: the direction is case-insensitive, and missing or invalid becomes DESC.
  return { field: f, desc: (dir ?? '').toUpperCase() !== 'ASC' };
}

export interface Paging {
  pageIndex: number;
  pageSize: number;
  offset: number;
  limit: number;
  sort: SortOrder[];
  search: string | undefined;
  identifiers: string[];
}

export function paging(req: FastifyRequest): Paging {
  const pageIndex = longParam(req, 'pageIndex') ?? 0;
  let pageSize = longParam(req, 'pageSize') ?? 50;
  if (pageIndex < 0) throw ngFailure(req, [{ field: 'pageIndex', message: 'must be greater than or equal to 0' }]);
  if (pageSize < 1) throw ngFailure(req, [{ field: 'pageSize', message: 'must be greater than or equal to 1' }]);
  pageSize = Math.min(pageSize, 100);
  const sort = many(req, 'sortOrders')
    .map(parseSortOrder)
    .filter((s): s is SortOrder => s !== null);
  const search = opt(req, 'searchTerm');
  return {
    pageIndex,
    pageSize,
    offset: pageIndex * pageSize,
    limit: pageSize,
    sort: sort.length > 0 ? sort : [{ field: 'updatedAt', desc: true }],
    search: search && search.length <= 256 ? search : search?.slice(0, 256),
    identifiers: many(req, 'identifiers'),
  };
}

export function pageResponse<T>(content: T[], total: number, p: Pick<Paging, 'pageIndex' | 'pageSize'>) {
  return {
    totalPages: Math.ceil(total / p.pageSize),
    totalItems: total,
    pageItemCount: content.length,
    pageSize: p.pageSize,
    content,
    pageIndex: p.pageIndex,
    empty: content.length === 0,
    pageToken: null,
  };
}

// ---- bodies as Jackson reads them ----------------------------------------------------------------

const jsonError = () => new NgError(400, { code: 400, message: 'Unable to process JSON' });

export function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw jsonError();
  return b as Record<string, unknown>;
}

/** A string field; Jackson coerces numbers and booleans to strings and refuses objects. */
export function str(b: Record<string, unknown>, name: string): string | null {
  const v = b[name];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw jsonError();
}

/** A Long field; Jackson accepts numbers and numeric strings. */
export function long(b: Record<string, unknown>, name: string): number | null {
  const v = b[name];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) return Number(v);
  throw jsonError();
}

export function bool(b: Record<string, unknown>, name: string): boolean | null {
  const v = b[name];
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw jsonError();
}

export function tags(b: Record<string, unknown>, name = 'tags'): Record<string, string> | null {
  const v = b[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw jsonError();
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null || val === undefined) out[k] = '';
    else if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else throw jsonError();
  }
  return out;
}

/** Harness serializes a missing description as null; Keyward stores it as "". */
export const nullIfEmpty = (s: string): string | null => (s === '' ? null : s);

/** Absent or only white space: Harness's @NotBlank. */
export const blank = (v: string | null) => v === null || v.trim() === '';

/** A list of field violations and its `add` (a null message adds nothing), as the NG body readers collect them. */
export function violations(): { v: FieldViolation[]; add: (field: string, message: string | null) => void } {
  const v: FieldViolation[] = [];
  return { v, add: (field, message) => void (message && v.push({ field, message })) };
}

/**
 * The fields every NG entity has, checked in Harness's order and words: identifier and name, then
 * what `between` adds (a service account's email), then description and tags.
 */
export function checkEntity(
  add: (field: string, message: string | null) => void,
  input: { identifier: string; name: string; description?: string | null; tags?: Tags | null },
  between?: () => void,
): void {
  add('identifier', checkIdentifier(input.identifier));
  add('name', blank(input.name) ? 'must not be blank' : checkName(input.name));
  between?.();
  add('description', checkDescription(input.description));
  add('tags', checkTags(input.tags));
}
