/**
 * Field rules from Harness NextGen (docs/compat/harness-ng.md). Each check returns the violation
 * message in the spec's words, or null when the value is fine; `validate` collects them.
 */
import { InvalidArgumentError, type FieldViolation } from './errors.js';

const IDENTIFIER_PATTERN = /^[a-zA-Z_][0-9a-zA-Z_$]{0,127}$/;
const RESERVED_IDENTIFIERS = new Set([
  'or', 'and', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'div', 'mod', 'not', 'null', 'true', 'false',
  'new', 'var', 'return', 'step', 'parallel', 'stepGroup', 'org', 'account', 'class',
  'shellScriptProvisioner',
]);
const NAME_PATTERN = /^[A-Za-z0-9\-_. /]*$/;

export const LIMITS = {
  identifier: 128,
  name: 128,
  description: 1024,
  tags: 128,
  /** Keyward's own bound on a tag key or value; Harness sets none, but an unbounded map is a DoS. */
  tagPart: 1024,
  email: 254,
} as const;

export function checkIdentifier(value: unknown): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return 'cannot be empty';
  }
  if (typeof value !== 'string') return 'must be a string';
  if (!IDENTIFIER_PATTERN.test(value)) {
    return 'can be 128 characters long and can only contain alphanumeric, underscore and $ characters, and not start with a number or $';
  }
  if (RESERVED_IDENTIFIERS.has(value)) return `${value} is a keyword, so cannot be used`;
  return null;
}

/** Org and project identifiers may be blank (meaning "none"), otherwise they follow the identifier rule. */
export function checkOptionalIdentifier(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  return checkIdentifier(value);
}

export function checkName(value: unknown): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return 'cannot be empty.';
  }
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > LIMITS.name) return 'cannot be more than 128 characters long.';
  if (!NAME_PATTERN.test(value)) {
    return 'can only contain alphanumeric, dot, hyphen, forward slash and underscore characters.';
  }
  return null;
}

export function checkDescription(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > LIMITS.description) return `size must be between 0 and ${LIMITS.description}`;
  return null;
}

export function checkTags(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return 'must be an object of string keys and values';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > LIMITS.tags) return `size must be between 0 and ${LIMITS.tags}`;
  for (const [k, v] of entries) {
    if (k.length > LIMITS.tagPart) return `tag key can be at most ${LIMITS.tagPart} characters long`;
    if (v !== null && v !== undefined && typeof v !== 'string') return `tag value of [${k}] must be a string`;
    if (typeof v === 'string' && v.length > LIMITS.tagPart) {
      return `tag value of [${k}] can be at most ${LIMITS.tagPart} characters long`;
    }
  }
  return null;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function checkEmail(value: unknown): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return 'must not be blank';
  }
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > LIMITS.email || !EMAIL_PATTERN.test(value)) return 'must be a well-formed email address';
  return null;
}

/** Normalises a tag map: missing or null becomes {}, null values become "". */
export function normalizeTags(value: Record<string, string | null | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const [k, v] of Object.entries(value)) out[k] = v ?? '';
  return out;
}

/**
 * Runs the given checks and throws one InvalidArgumentError naming every violated field,
 * with the message "<field>: <rule>, <field>: <rule>".
 */
export function validate(checks: Array<[field: string, violation: string | null]>): void {
  const violations: FieldViolation[] = [];
  for (const [field, message] of checks) if (message) violations.push({ field, message });
  if (violations.length > 0) {
    throw new InvalidArgumentError(violations.map((v) => `${v.field}: ${v.message}`).join(', '), violations, 'field');
  }
}

/** What a NUL character in any request field is: PostgreSQL can neither store nor compare one. */
export const NUL_RULE = 'must not contain a NUL character';

/**
 * The path of the first string (or object key) holding a NUL character, or null. Iterative, so no
 * input, however deeply nested, can overflow the stack.
 */
export function findNul(value: unknown, path = ''): string | null {
  const pending: Array<[unknown, string]> = [[value, path]];
  while (pending.length > 0) {
    const [item, at] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return at;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([item[i], at]);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (const [k] of entries) if (k.includes('\u0000')) return at ? `${at}.${k}` : k;
      for (let i = entries.length - 1; i >= 0; i--) pending.push([entries[i]![1], at ? `${at}.${entries[i]![0]}` : entries[i]![0]]);
    }
  }
  return null;
}

/** Throws the field's InvalidArgumentError when a request's path, query or body holds a NUL character. */
export function rejectNul(parts: { params?: unknown; query?: unknown; body?: unknown }): void {
  const field = findNul(parts.params) ?? findNul(parts.query) ?? findNul(parts.body);
  if (field !== null) throw InvalidArgumentError.field(field, NUL_RULE);
}
