/**
 * ZenML's filter, sort and page parameters (docs/compat/zenml.md), applied in memory to the rows
 * of one list (an account's service accounts, a service account's keys: small sets), so that every
 * operator, quirk and message matches ZenML's exactly.
 */
import { isUuid } from '../../domain/ids.js';
import { detail, requestInvalid, type ZenmlError } from './errors.js';

export type FieldType = 'uuid' | 'str' | 'datetime' | 'bool';

export interface FieldDef<T> {
  type: FieldType;
  get(row: T): string | number | boolean | null;
}

const OPS = ['equals', 'notequals', 'contains', 'startswith', 'endswith', 'oneof', 'gte', 'gt', 'lte', 'lt', 'in'] as const;
type Op = (typeof OPS)[number];

const valueError = (message: string): ZenmlError => detail(422, 'ValueError', message);

/** `op:value` when the prefix is a known operator, else the whole string is an `equals` value. */
function splitOp(raw: string): { op: Op; value: string; explicit: boolean } {
  const i = raw.indexOf(':');
  if (i > 0) {
    const op = raw.slice(0, i) as Op;
    if ((OPS as readonly string[]).includes(op)) return { op, value: raw.slice(i + 1), explicit: true };
  }
  return { op: 'equals', value: raw, explicit: false };
}

const STRICT_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const LOOSE_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]00:?00)?$/;

function parseStrict(v: string, field: string): number {
  const m = STRICT_DATETIME.exec(v);
  if (!m) throw valueError(`The datetime filter value '${v}' for '${field}' must be in the format '%Y-%m-%d %H:%M:%S'.`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function parseLoose(v: string, field: string): number {
  const m = LOOSE_DATETIME.exec(v.trim());
  if (!m) throw valueError(`${field}: invalid datetime format`);
  const frac = m[7] ? Number(m[7].padEnd(6, '0').slice(0, 3)) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0, frac);
}

function parseBool(v: string, field: string): boolean {
  const l = v.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(l)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(l)) return false;
  throw valueError(`${field}: value could not be parsed to a boolean`);
}

const hex = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();
const lower = (s: string) => s.toLowerCase();

/** Builds a predicate for one field filter, validating the value as ZenML does. */
function predicate<T>(field: string, def: FieldDef<T>, raw: string): (row: T) => boolean {
  const { op, value, explicit } = splitOp(raw);
  switch (def.type) {
    case 'bool': {
      // Other operators are coerced to equals; an explicit `equals:false` is Python's bool("false"), i.e. True.
      const want = explicit ? value !== '' : parseBool(value, field);
      return (row) => def.get(row) === want;
    }
    case 'datetime': {
      if (!['equals', 'notequals', 'gt', 'gte', 'lt', 'lte', 'in'].includes(op)) {
        throw valueError(`The filter operator '${op}' is not supported for datetime fields.`);
      }
      if (op === 'in') {
        const parts = value.split(',');
        if (parts.length !== 2) throw valueError(`The 'in' filter for '${field}' needs two comma-separated datetimes.`);
        const lo = parseStrict(parts[0]!.trim(), field);
        const hi = parseStrict(parts[1]!.trim(), field);
        return (row) => {
          const v = def.get(row) as number | null;
          return v !== null && v >= lo && v <= hi;
        };
      }
      const t = explicit ? parseStrict(value, field) : parseLoose(value, field);
      // Stored times have milliseconds; a filter value has whole seconds (or what was given).
      return (row) => {
        const v = def.get(row) as number | null;
        if (v === null) return false;
        switch (op) {
          case 'equals': return v === t;
          case 'notequals': return v !== t;
          case 'gt': return v > t;
          case 'gte': return v >= t;
          case 'lt': return v < t;
          default: return v <= t;
        }
      };
    }
    case 'uuid': {
      if (op === 'equals' || op === 'notequals') {
        if (!isUuid(value)) throw valueError('Invalid value passed as UUID query parameter.');
        const want = hex(value);
        return (row) => (hex(String(def.get(row))) === want) === (op === 'equals');
      }
      return stringPredicate(op, hex(value), (row) => hex(String(def.get(row))), field);
    }
    case 'str':
      return stringPredicate(op, value, (row) => def.get(row) as string | null, field);
  }
}

function stringPredicate<T>(op: Op, value: string, get: (row: T) => string | null, field: string): (row: T) => boolean {
  switch (op) {
    case 'equals':
      return (row) => get(row) === value;
    case 'notequals':
      return (row) => get(row) !== value;
    // SQL LIKE as ZenML's default databases (SQLite, MySQL) evaluate it: case-insensitive.
    case 'contains':
      return (row) => lower(get(row) ?? '').includes(lower(value));
    case 'startswith':
      return (row) => lower(get(row) ?? '').startsWith(lower(value));
    case 'endswith':
      return (row) => lower(get(row) ?? '').endsWith(lower(value));
    case 'oneof': {
      let list: unknown;
      try {
        list = JSON.parse(value);
      } catch {
        list = null;
      }
      if (!Array.isArray(list)) throw valueError("When you are using the 'oneof:' filtering make sure that the provided value is a json formatted list.");
      const set = new Set(list.map(String));
      return (row) => set.has(String(get(row)));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) throw valueError(`${field}: value is not a valid float`);
      return (row) => {
        const v = Number(get(row));
        if (Number.isNaN(v)) return false;
        return op === 'gt' ? v > n : op === 'gte' ? v >= n : op === 'lt' ? v < n : v <= n;
      };
    }
    default:
      throw valueError(`The filter operator '${op}' is not supported for '${field}'.`);
  }
}

export interface ListParams {
  page: number;
  size: number;
  hydrate: boolean;
}

/** A request's query: each value a string or several (the route's querystring schema, protocols/contract, lets nothing else through). */
export type Query = Record<string, unknown>;

/** The values of `k`: one, several when repeated, none when absent. */
export function queryValues(query: Query, k: string): string[] {
  const v = query[k];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** The last value of `k`, as FastAPI reads a repeated single-valued parameter. */
export const lastValue = (query: Query, k: string): string | undefined => queryValues(query, k).at(-1);

/** Parses, filters, sorts and pages `rows` from the request's query. */
export function applyListQuery<T>(
  rows: T[],
  query: Query,
  fields: Record<string, FieldDef<T>>,
  opts: { hydrateDefault: boolean; maxSize?: number },
): { items: T[]; page: ListParams; total: number; totalPages: number } {
  const one = (k: string) => lastValue(query, k);
  const intParam = (k: string, dflt: number) => {
    const v = one(k);
    if (v === undefined || v === '') return dflt;
    if (!/^-?\d+$/.test(v.trim())) throw requestInvalid(`${k}: value is not a valid integer`);
    return Number(v);
  };
  const page = intParam('page', 1);
  const size = intParam('size', 20);
  const maxSize = opts.maxSize ?? 10_000;
  if (page < 1) throw valueError('page: ensure this value is greater than or equal to 1');
  if (size < 1 || size > maxSize) throw valueError(`size: ensure this value is greater than or equal to 1 and less than or equal to ${maxSize}`);
  const hydrateRaw = one('hydrate');
  const hydrate = hydrateRaw === undefined ? opts.hydrateDefault : parseBool(hydrateRaw, 'hydrate');

  const logical = (one('logical_operator') ?? 'and').toLowerCase();
  if (logical !== 'and' && logical !== 'or') throw valueError(`logical_operator: value is not a valid enumeration member; permitted: 'and', 'or'`);

  const preds: Array<(row: T) => boolean> = [];
  for (const [field, def] of Object.entries(fields)) {
    for (const r of queryValues(query, field)) preds.push(predicate(field, def, r));
  }
  const matches = (row: T) => (logical === 'or' ? preds.some((p) => p(row)) : preds.every((p) => p(row)));
  const filtered = preds.length === 0 ? (logical === 'or' ? [] : [...rows]) : rows.filter(matches);

  const sortRaw = one('sort_by') ?? 'created';
  let dir: 'asc' | 'desc' = 'asc';
  let column = sortRaw;
  const colon = sortRaw.indexOf(':');
  if (colon >= 0) {
    const prefix = sortRaw.slice(0, colon);
    column = sortRaw.slice(colon + 1);
    dir = prefix === 'desc' ? 'desc' : 'asc'; // an unknown prefix sorts ascending, as ZenML does after a warning
  }
  const sortDef = fields[column];
  if (!sortDef) throw valueError(`This resource can not be sorted by this field: '${sortRaw}'`);
  const idDef = fields.id!;
  const cmp = (a: string | number | boolean | null, b: string | number | boolean | null) => {
    if (a === b) return 0;
    if (a === null) return -1; // NULL sorts first ascending, as in SQLite and MySQL
    if (b === null) return 1;
    return a < b ? -1 : 1;
  };
  filtered.sort((x, y) => {
    const c = cmp(sortDef.get(x), sortDef.get(y));
    if (c !== 0) return dir === 'desc' ? -c : c;
    return cmp(hex(String(idDef.get(x))), hex(String(idDef.get(y))));
  });

  const total = filtered.length;
  const totalPages = total === 0 ? 1 : Math.ceil(total / size);
  if (page > totalPages) {
    throw detail(
      400,
      'ValueError',
      `Invalid page ${page}. The requested page size is ${size} and there are a total of ${total} items for this query. The maximum page value therefore is ${totalPages}.`,
    );
  }
  return { items: filtered.slice((page - 1) * size, page * size), page: { page, size, hydrate }, total, totalPages };
}
