/**
 * Token formats (docs/architecture.md). Each format carries an id or is looked up by its digest, so
 * verification is one indexed read or one cache hit. Parsing rejects malformed input without I/O.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ACCOUNT_ID_PATTERN, isUuid, randomAlphanumeric, newTokenId } from './ids.js';
import { randomBytes } from 'node:crypto';

export type ApiKeyType = 'USER' | 'SERVICE_ACCOUNT';
export type TokenFormat = 'harness_ng' | 'zenml' | 'harness_cg';

/** The Harness NG secret is 20 alphanumerics: log2(62^20) = 119 bits, above the 112-bit floor. */
export const NG_SECRET_LENGTH = 20;
/** The CG secret is 80 alphanumerics (476 bits). */
export const CG_SECRET_LENGTH = 80;
export const ZENML_PREFIX = 'ZENKEY_';
/** Bounds input before any work is done on it: no valid token is anywhere near this long. */
export const MAX_TOKEN_LENGTH = 512;

export type ParsedToken =
  | { format: 'harness_ng'; prefix: 'pat' | 'sat'; accountId: string | null; tokenId: string; secret: string }
  | { format: 'zenml'; keyId: string; secret: string }
  | { format: 'harness_cg'; accountId: string; secret: string; whole: string };

export type ParseFailure = { format: null; reason: string };

const ALNUM = /^[A-Za-z0-9]+$/;

/**
 * SHA-256 of a secret, as 32 bytes. A slow KDF buys nothing for secrets of 112+ bits of entropy
 * (NIST SP 800-63B 5.1.2.2) and would cost ~10^5 times more per verification.
 */
export function digestSecret(secret: string): Buffer {
  return oneShot ? oneShot('sha256', secret, 'buffer') : createHash('sha256').update(secret, 'utf8').digest();
}

/** `crypto.hash` (Node 20.12+) hashes without creating a Hash object: the same digest, less work. */
const oneShot = (nodeCrypto as unknown as { hash?: { (alg: string, data: string, enc: 'buffer'): Buffer; (alg: string, data: string, enc: 'latin1'): string } }).hash;

/**
 * SHA-256 of a secret as a 32-character latin1 string (one character per byte): what verification
 * hashes and caches. Node makes a string result about 3 to 4 times faster than a Buffer one (no
 * ArrayBuffer to allocate and track), and a cached 32-byte string takes 48 bytes, a Buffer ~130.
 */
export function digestSecretString(secret: string): string {
  return oneShot ? oneShot('sha256', secret, 'latin1') : createHash('sha256').update(secret, 'utf8').digest().toString('latin1');
}

/**
 * Constant-time comparison of two digests as `digestSecretString` gives them: every character is
 * XOR-ed into one accumulator, with no early exit and no branch on the data, so the time does not
 * depend on how many leading bytes match (what crypto.timingSafeEqual guarantees for Buffers, here
 * without a native call). The length is public: both sides are SHA-256 outputs, 32 characters.
 */
export function digestStringsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function digestHex(secret: string): string {
  return digestSecret(secret).toString('hex');
}

/** Constant-time digest comparison; both sides are fixed-length SHA-256 outputs. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Compared against when a token id is unknown, so that path does the same work as a wrong secret. */
export const DUMMY_DIGEST = digestSecret('keyward-dummy-digest');
export const DUMMY_DIGEST_STRING = digestSecretString('keyward-dummy-digest');

export function apiKeyTypePrefix(type: ApiKeyType): 'pat' | 'sat' {
  return type === 'USER' ? 'pat' : 'sat';
}

// ---- Harness NG: pat.<accountId>.<24 hex token id>.<20 alphanumerics> --------------------------

export function generateNgToken(type: ApiKeyType, accountId: string, tokenId: string = newTokenId()) {
  const secret = randomAlphanumeric(NG_SECRET_LENGTH);
  return { tokenId, secret, token: `${apiKeyTypePrefix(type)}.${accountId}.${tokenId}.${secret}` };
}

/** Where a Harness NG token's parts are, from its dots alone, or the reason its shape is wrong. */
interface NgLayout {
  prefix: 'pat' | 'sat';
  /** The four-part form carries the account id between the first two dots. */
  four: boolean;
  d1: number;
  d2: number;
  idStart: number;
  idEnd: number;
}

function ngLayout(token: string): NgLayout | string {
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  const d3 = d2 < 0 ? -1 : token.indexOf('.', d2 + 1);
  const d4 = d3 < 0 ? -1 : token.indexOf('.', d3 + 1);
  if (d2 < 0 || d4 >= 0) return 'Token length not matching for API token';
  const prefix = d1 === 3 && token.startsWith('pat') ? 'pat' : d1 === 3 && token.startsWith('sat') ? 'sat' : null;
  if (prefix === null) return 'Invalid prefix for API token';
  const four = d3 >= 0;
  return { prefix, four, d1, d2, idStart: four ? d2 + 1 : d1 + 1, idEnd: four ? d3 : d2 };
}

/** A Harness NG token, parsed. */
export type ParsedNgToken = Extract<ParsedToken, { format: 'harness_ng' }>;

function ngParts(token: string, l: NgLayout): ParsedNgToken {
  return { format: 'harness_ng', prefix: l.prefix, accountId: l.four ? token.slice(l.d1 + 1, l.d2) : null, tokenId: token.slice(l.idStart, l.idEnd), secret: token.slice(l.idEnd + 1) };
}

/**
 * Split by hand (no array, no regular expressions): this runs on every verification that is not a
 * plain cache hit. Same checks, order and messages as splitting on '.' and testing ACCOUNT_ID_PATTERN,
 * /^[0-9a-f]{24}$/ and /^[A-Za-z0-9]+$/. Each part is checked in place in the token (one table
 * lookup per character) and sliced only once it passed.
 */
function parseNg(token: string): ParsedToken | ParseFailure {
  const l = ngLayout(token);
  if (typeof l === 'string') return { format: null, reason: l };
  const { d1, d2, idStart, idEnd } = l;
  const secretStart = idEnd + 1;
  if (l.four && (d2 - d1 - 1 < 1 || d2 - d1 - 1 > 64 || !allOf(token, d1 + 1, d2, ACCOUNT_CHAR))) return { format: null, reason: 'malformed account id' };
  if (idEnd - idStart !== 24 || !allOf(token, idStart, idEnd, HEX_LOWER)) return { format: null, reason: 'malformed token id' };
  if (token.length - secretStart !== NG_SECRET_LENGTH || !allOf(token, secretStart, token.length, ALNUM_CHAR)) return { format: null, reason: 'malformed secret' };
  return ngParts(token, l);
}

/**
 * A Harness NG token's parts found from its dots alone, no character checked: for a cache hit's
 * first look. Trust them only once the secret's digest matches a cached credential's, which means
 * the very token that was issued (every character valid); for anything else call parseToken, which
 * says what is wrong. Null when the shape is not an NG token's.
 */
export function splitNgToken(raw: unknown): ParsedNgToken | null {
  if (typeof raw !== 'string' || raw.length > MAX_TOKEN_LENGTH) return null;
  const l = ngLayout(raw);
  return typeof l === 'string' ? null : ngParts(raw, l);
}

/** Character classes of ASCII codes, as bits: letters and digits, `_` and `-` too, lowercase hex. */
const ALNUM_CHAR = 1;
const ACCOUNT_CHAR = 2;
const HEX_LOWER = 4;
const CHAR_CLASS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (isAlnumCode(c)) t[c]! |= ALNUM_CHAR | ACCOUNT_CHAR;
    if (c === 95 /* _ */ || c === 45 /* - */) t[c]! |= ACCOUNT_CHAR;
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) t[c]! |= HEX_LOWER;
  }
  return t;
})();

/** Whether every character of s[from, to) is of class `cls` (none outside ASCII is). */
function allOf(s: string, from: number, to: number, cls: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c]! & cls) === 0) return false;
  }
  return true;
}

function isAlnumCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

// ---- ZenML: ZENKEY_ + base64 of {"id":"<key uuid>","key":"<64 hex>"} ----------------------------

export function encodeZenmlKey(keyId: string, secret: string): string {
  return ZENML_PREFIX + Buffer.from(JSON.stringify({ id: keyId, key: secret }), 'utf8').toString('base64');
}

/** A ZenML secret: secrets.token_hex(32), 64 lowercase hex characters (256 bits). */
export function generateZenmlSecret(): string {
  return randomBytes(32).toString('hex');
}

function parseZenml(token: string): ParsedToken | ParseFailure {
  const body = token.startsWith(ZENML_PREFIX) ? token.slice(ZENML_PREFIX.length) : token;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return { format: null, reason: 'error decoding API key' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    return { format: null, reason: 'error decoding API key' };
  }
  if (typeof decoded !== 'object' || decoded === null) return { format: null, reason: 'error decoding API key' };
  const { id, key } = decoded as { id?: unknown; key?: unknown };
  if (typeof id !== 'string' || !isUuid(id) || typeof key !== 'string') {
    return { format: null, reason: 'error decoding API key' };
  }
  return { format: 'zenml', keyId: id.toLowerCase(), secret: key };
}

// ---- Harness CG: base64 of <accountId>::<80 alphanumerics>, looked up by digest ----------------

export function generateCgKey(accountId: string): { key: string; secret: string } {
  const secret = randomAlphanumeric(CG_SECRET_LENGTH);
  return { key: Buffer.from(`${accountId}::${secret}`, 'utf8').toString('base64'), secret };
}

function parseCg(token: string): ParsedToken | ParseFailure {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { format: null, reason: 'malformed key' };
  const text = Buffer.from(token, 'base64').toString('utf8');
  const sep = text.indexOf('::');
  if (sep <= 0) return { format: null, reason: 'malformed key' };
  const accountId = text.slice(0, sep);
  const secret = text.slice(sep + 2);
  if (!ACCOUNT_ID_PATTERN.test(accountId) || secret.length !== CG_SECRET_LENGTH || !ALNUM.test(secret)) {
    return { format: null, reason: 'malformed key' };
  }
  return { format: 'harness_cg', accountId, secret, whole: token };
}

/** Recognises any Keyward token format. Never touches storage. */
export function parseToken(raw: unknown): ParsedToken | ParseFailure {
  if (typeof raw !== 'string' || raw.length === 0) return { format: null, reason: 'Token is Empty' };
  if (raw.length > MAX_TOKEN_LENGTH) return { format: null, reason: 'token too long' };
  const token = raw.trim();
  if (token.startsWith('pat.') || token.startsWith('sat.')) return parseNg(token);
  if (token.startsWith(ZENML_PREFIX)) return parseZenml(token);
  // Without a prefix, a ZenML key decodes to JSON and a CG key to "<account>::<secret>".
  const cg = parseCg(token);
  if (cg.format) return cg;
  const zen = parseZenml(token);
  if (zen.format) return zen;
  return { format: null, reason: 'unrecognised token format' };
}
