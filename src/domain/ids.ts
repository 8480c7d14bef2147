import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` characters drawn uniformly from `alphabet` using the OS CSPRNG. Rejection sampling
 * avoids the modulo bias that `byte % alphabet.length` would introduce.
 */
export function randomString(length: number, alphabet: string = ALNUM): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.3) + 4);
    for (const b of bytes) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export const randomAlphanumeric = (length: number): string => randomString(length, ALNUM);
export const randomLetters = (length: number): string => randomString(length, LETTERS);

/** A token id in Harness's shape: 24 lowercase hex characters (Mongo ObjectId width), 96 random bits. */
export function newTokenId(): string {
  return randomBytes(12).toString('hex');
}

/** An account id in Harness's shape: 22 characters of [A-Za-z0-9_-] (base64url of 128 random bits). */
export function newAccountId(): string {
  return randomBytes(16).toString('base64url');
}

/** Harness user ids have the same shape as account ids. */
export const newUserId = newAccountId;

export function newUuid(): string {
  return randomUUID();
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_PATTERN.test(s);
}

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
