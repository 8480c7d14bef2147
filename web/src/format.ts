/** Identifiers, dates and tags as the console shows and reads them. */

const RESERVED = new Set([
  'or', 'and', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'div', 'mod', 'not', 'null', 'true', 'false',
  'new', 'var', 'return', 'step', 'parallel', 'stepGroup', 'org', 'account', 'class', 'shellScriptProvisioner',
]);

/**
 * An identifier from a name, as Harness derives one: every character an identifier may not hold
 * (spec section 3: `^[a-zA-Z_][0-9a-zA-Z_$]{0,127}$`) becomes `_`, a leading digit or `$` gets a
 * `_` in front, reserved words get a trailing `_`.
 */
export function identifierFromName(name: string): string {
  let id = name.trim().replace(/[^0-9a-zA-Z_$]/g, '_');
  if (/^[0-9$]/.test(id)) id = `_${id}`;
  id = id.slice(0, 128);
  if (RESERVED.has(id)) id = `${id}_`;
  return id;
}

/** The spec's identifier rule, in its words; null when fine. */
export function identifierProblem(id: string): string | null {
  if (id.trim() === '') return 'cannot be empty';
  if (!/^[a-zA-Z_][0-9a-zA-Z_$]{0,127}$/.test(id)) {
    return 'can be 128 characters long and can only contain alphanumeric, underscore and $ characters, and not start with a number or $';
  }
  if (RESERVED.has(id)) return `${id} is a keyword, so cannot be used`;
  return null;
}

/**
 * A date (yyyy-mm-dd, as a date picker gives it, or Harness's mm/dd/yyyy) to the end of that day in
 * the browser's time zone, so a token set to expire on a date still works on that date. Null when
 * blank; an error string when malformed.
 */
export function parseDate(text: string): number | null | string {
  const t = text.trim();
  if (t === '') return null;
  let year: number, month: number, day: number;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (us) [month, day, year] = [Number(us[1]), Number(us[2]), Number(us[3])];
  else return 'Enter a date such as 2027-03-01, or pick one.';
  const d = new Date(year, month - 1, day, 23, 59, 59, 999);
  if (d.getMonth() !== month - 1 || d.getDate() !== day) return 'That date is not in the calendar.';
  return d.getTime();
}

/** yyyy-mm-ddThh:mm (a datetime-local input) to milliseconds, local time; null when blank or malformed. */
export function parseDateTime(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Milliseconds to yyyy-mm-dd (a date input's value), local time. */
export function formatDateInput(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Milliseconds to yyyy-mm-ddThh:mm (a datetime-local input's value), local time. */
export function formatDateTimeInput(ms: number): string {
  const d = new Date(ms);
  return `${formatDateInput(ms)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The characters a name may hold, as the server checks them (src/domain/validation.ts NAME_PATTERN). */
export const NAME_HINT = 'Letters, digits, spaces, and . - _ / only.';

/** The name rule in words, or null when the name is fine; blank is left to the submit. */
export function nameProblem(name: string): string | null {
  if (name.length > 128) return 'A name can be at most 128 characters long.';
  const bad = [...new Set(name.replace(/[A-Za-z0-9\-_. /]/g, ''))];
  if (bad.length > 0) return `A name cannot contain ${bad.map((c) => `“${c}”`).join(' ')}. ${NAME_HINT}`;
  return null;
}

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const dateOnly = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : dateTime.format(new Date(ms));
}
export function formatDay(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? 'never' : dateOnly.format(new Date(ms));
}

/** "env:prod, team:core, beta" to {env:"prod", team:"core", beta:""}. */
export function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf(':');
    if (i < 0) out[p] = '';
    else out[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  return out;
}

export function formatTags(tags: Record<string, string> | null | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => (v ? `${k}:${v}` : k))
    .join(', ');
}

/** A short name for a browser or client from its User-Agent. */
export function clientName(ua: string | null): string {
  if (!ua) return '';
  if (/HeadlessChrome/.test(ua)) return 'Headless Chrome';
  if (/Edg\//.test(ua)) return 'Edge';
  if (/Chrome\//.test(ua)) return 'Chrome';
  if (/Firefox\//.test(ua)) return 'Firefox';
  if (/Safari\//.test(ua)) return 'Safari';
  if (/^curl\//.test(ua)) return 'curl';
  if (/Go-http-client|terraform/i.test(ua)) return ua.split(' ')[0]!;
  if (/node|undici/i.test(ua)) return 'Node.js';
  return ua.slice(0, 40);
}
