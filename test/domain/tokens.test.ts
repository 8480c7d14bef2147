/** Token codecs (docs/architecture.md, docs/compat/harness-ng.md): generate, parse, reject without I/O. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newAccountId, newTokenId, newUuid, randomAlphanumeric, randomLetters } from '../../src/domain/ids.js';
import {
  CG_SECRET_LENGTH,
  MAX_TOKEN_LENGTH,
  NG_SECRET_LENGTH,
  ZENML_PREFIX,
  digestHex,
  digestSecret,
  digestSecretString,
  digestStringsEqual,
  digestsEqual,
  encodeZenmlKey,
  generateCgKey,
  generateNgToken,
  generateZenmlSecret,
  parseToken,
} from '../../src/domain/tokens.js';

const ACCOUNT = 'kmpySmUISimoRrJL6NL73w';
const TOKEN_ID = '65a1f0c2b3d4e5f60718293a';
const SECRET20 = 'AbCdEfGhIj0123456789';
/** The shape gitleaks looks for (docs/architecture.md, token formats). */
const GITLEAKS_NG = /^(?:pat|sat)\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{20}$/;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('Harness NG tokens', () => {
  it('generates pat.<account>.<24 hex>.<20 alphanumerics> for USER keys and sat. for SERVICE_ACCOUNT keys', () => {
    const pat = generateNgToken('USER', ACCOUNT);
    const sat = generateNgToken('SERVICE_ACCOUNT', ACCOUNT);
    expect(pat.token).toMatch(GITLEAKS_NG);
    expect(pat.token.startsWith(`pat.${ACCOUNT}.`)).toBe(true);
    expect(sat.token.startsWith(`sat.${ACCOUNT}.`)).toBe(true);
    expect(pat.tokenId).toMatch(/^[0-9a-f]{24}$/);
    expect(pat.secret).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(pat.token).toBe(`pat.${ACCOUNT}.${pat.tokenId}.${pat.secret}`);
  });

  it('uses a given token id', () => {
    expect(generateNgToken('USER', ACCOUNT, TOKEN_ID).token.split('.')[2]).toBe(TOKEN_ID);
  });

  it('parses what it generates', () => {
    const g = generateNgToken('SERVICE_ACCOUNT', ACCOUNT);
    expect(parseToken(g.token)).toEqual({ format: 'harness_ng', prefix: 'sat', accountId: ACCOUNT, tokenId: g.tokenId, secret: g.secret });
  });

  it('parses the legacy 3-part form <prefix>.<token id>.<secret>, with no account', () => {
    expect(parseToken(`pat.${TOKEN_ID}.${SECRET20}`)).toEqual({ format: 'harness_ng', prefix: 'pat', accountId: null, tokenId: TOKEN_ID, secret: SECRET20 });
  });

  it('ignores surrounding whitespace', () => {
    expect(parseToken(`  pat.${ACCOUNT}.${TOKEN_ID}.${SECRET20}\n`)).toMatchObject({ format: 'harness_ng', tokenId: TOKEN_ID });
  });

  it.each([
    ['two parts', `pat.${TOKEN_ID}`, 'Token length not matching for API token'],
    ['five parts', `pat.${ACCOUNT}.${TOKEN_ID}.${SECRET20}.extra`, 'Token length not matching for API token'],
    ['a token id that is not hex', `pat.${ACCOUNT}.65a1f0c2b3d4e5f60718293z.${SECRET20}`, 'malformed token id'],
    ['an upper-case hex token id', `pat.${ACCOUNT}.65A1F0C2B3D4E5F60718293A.${SECRET20}`, 'malformed token id'],
    ['a 23-character token id', `pat.${ACCOUNT}.${TOKEN_ID.slice(1)}.${SECRET20}`, 'malformed token id'],
    ['a 19-character secret', `pat.${ACCOUNT}.${TOKEN_ID}.${SECRET20.slice(1)}`, 'malformed secret'],
    ['a 21-character secret', `pat.${ACCOUNT}.${TOKEN_ID}.${SECRET20}x`, 'malformed secret'],
    ['a secret with a symbol', `pat.${ACCOUNT}.${TOKEN_ID}.AbCdEfGhIj012345678-`, 'malformed secret'],
    ['an account with a symbol', `pat.acc!unt.${TOKEN_ID}.${SECRET20}`, 'malformed account id'],
    ['an empty account', `pat..${TOKEN_ID}.${SECRET20}`, 'malformed account id'],
  ])('rejects %s', (_what, token, reason) => {
    expect(parseToken(token)).toEqual({ format: null, reason });
  });

  it('does not treat other prefixes as NG tokens', () => {
    expect(parseToken(`xat.${ACCOUNT}.${TOKEN_ID}.${SECRET20}`).format).toBeNull();
    expect(parseToken(`PAT.${ACCOUNT}.${TOKEN_ID}.${SECRET20}`).format).toBeNull();
  });
});

describe('ZenML keys', () => {
  const keyId = '3f2b8c1e-9d4a-4b7e-a1c2-5e6f7a8b9c0d';
  const secret = 'a'.repeat(64);

  it('encodes ZENKEY_ + base64 of {"id","key"} and parses it back', () => {
    const token = encodeZenmlKey(keyId, secret);
    expect(token.startsWith(ZENML_PREFIX)).toBe(true);
    expect(JSON.parse(Buffer.from(token.slice(ZENML_PREFIX.length), 'base64').toString('utf8'))).toEqual({ id: keyId, key: secret });
    expect(parseToken(token)).toEqual({ format: 'zenml', keyId, secret });
  });

  it('parses the base64 body without the prefix', () => {
    expect(parseToken(b64(JSON.stringify({ id: keyId, key: secret })))).toEqual({ format: 'zenml', keyId, secret });
  });

  it('parses JSON with spaces, as Python json.dumps writes it', () => {
    const spaced = `{"id": "${keyId}", "key": "${secret}"}`;
    expect(parseToken(ZENML_PREFIX + b64(spaced))).toEqual({ format: 'zenml', keyId, secret });
    expect(parseToken(b64(spaced))).toEqual({ format: 'zenml', keyId, secret });
  });

  it('lower-cases an upper-case key id', () => {
    expect(parseToken(encodeZenmlKey(keyId.toUpperCase(), secret))).toMatchObject({ format: 'zenml', keyId });
  });

  it.each([
    ['garbage after the prefix', `${ZENML_PREFIX}!!!not-base64!!!`],
    ['base64 that is not JSON', ZENML_PREFIX + b64('hello world')],
    ['JSON that is not an object', ZENML_PREFIX + b64('42')],
    ['JSON null', ZENML_PREFIX + b64('null')],
    ['an id that is not a UUID', ZENML_PREFIX + b64(JSON.stringify({ id: 'abc', key: secret }))],
    ['a missing key', ZENML_PREFIX + b64(JSON.stringify({ id: keyId }))],
    ['a key that is not a string', ZENML_PREFIX + b64(JSON.stringify({ id: keyId, key: 7 }))],
  ])('rejects %s', (_what, token) => {
    expect(parseToken(token)).toEqual({ format: null, reason: 'error decoding API key' });
  });

  it('generates 64 lower-case hex secrets, different every time', () => {
    const a = generateZenmlSecret();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(generateZenmlSecret()).not.toBe(a);
  });
});

describe('Harness CG keys', () => {
  it('generates base64 of <account>::<80 alphanumerics> and parses it back', () => {
    const { key, secret } = generateCgKey(ACCOUNT);
    expect(secret).toMatch(/^[A-Za-z0-9]{80}$/);
    expect(Buffer.from(key, 'base64').toString('utf8')).toBe(`${ACCOUNT}::${secret}`);
    expect(parseToken(key)).toEqual({ format: 'harness_cg', accountId: ACCOUNT, secret, whole: key });
  });

  it.each([
    ['a 79-character secret', b64(`${ACCOUNT}::${'a'.repeat(CG_SECRET_LENGTH - 1)}`)],
    ['an 81-character secret', b64(`${ACCOUNT}::${'a'.repeat(CG_SECRET_LENGTH + 1)}`)],
    ['a secret with a symbol', b64(`${ACCOUNT}::${'a'.repeat(CG_SECRET_LENGTH - 1)}-`)],
    ['no separator', b64(`${ACCOUNT}${'a'.repeat(CG_SECRET_LENGTH)}`)],
    ['an empty account', b64(`::${'a'.repeat(CG_SECRET_LENGTH)}`)],
    ['an account with a symbol', b64(`ac count::${'a'.repeat(CG_SECRET_LENGTH)}`)],
  ])('rejects %s', (_what, token) => {
    expect(parseToken(token).format).toBeNull();
  });
});

describe('parseToken on hostile input', () => {
  it.each([
    ['a number', 12345],
    ['null', null],
    ['undefined', undefined],
    ['an object', { token: 'pat.x' }],
    ['an array', ['pat']],
    ['the empty string', ''],
  ])('rejects %s as empty', (_what, input) => {
    expect(parseToken(input)).toEqual({ format: null, reason: 'Token is Empty' });
  });

  it('rejects anything longer than the longest possible token before parsing it', () => {
    const long = `pat.${ACCOUNT}.${TOKEN_ID}.${'a'.repeat(MAX_TOKEN_LENGTH)}`;
    expect(parseToken(long)).toEqual({ format: null, reason: 'token too long' });
    expect(parseToken('A'.repeat(MAX_TOKEN_LENGTH + 1))).toEqual({ format: null, reason: 'token too long' });
  });

  it.each(['abc', 'not a token', 'Zm9vYmFy', '====', '\u0000\u0001', 'ZENKEY_'])('rejects the garbage %j', (input) => {
    expect(parseToken(input).format).toBeNull();
  });
});

describe('secrets and ids', () => {
  it('draws NG secrets from the 62 alphanumerics, all of them, and never repeats', () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { secret } = generateNgToken('USER', ACCOUNT);
      expect(secret).toHaveLength(NG_SECRET_LENGTH);
      seen.add(secret);
      for (const c of secret) chars.add(c);
    }
    expect(seen.size).toBe(500);
    // 10,000 draws over 62 characters: every character shows up (missing one has probability ~1e-70).
    expect([...chars].sort().join('')).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
  });

  it('makes random strings of the asked length and alphabet', () => {
    expect(randomAlphanumeric(80)).toMatch(/^[A-Za-z0-9]{80}$/);
    expect(randomLetters(15)).toMatch(/^[A-Za-z]{15}$/);
    expect(randomLetters(15)).not.toBe(randomLetters(15));
  });

  it('makes ids in Harness shapes', () => {
    expect(newTokenId()).toMatch(/^[0-9a-f]{24}$/);
    expect(newTokenId()).not.toBe(newTokenId());
    expect(newAccountId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newUuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('digests', () => {
  it('is SHA-256 of the secret', () => {
    expect(digestHex(SECRET20)).toBe(createHash('sha256').update(SECRET20).digest('hex'));
    expect(digestSecret(SECRET20)).toHaveLength(32);
  });

  it('compares digests', () => {
    expect(digestsEqual(digestSecret('a'), digestSecret('a'))).toBe(true);
    expect(digestsEqual(digestSecret('a'), digestSecret('b'))).toBe(false);
    expect(digestsEqual(digestSecret('a'), Buffer.alloc(16))).toBe(false);
  });

  it('gives the same SHA-256 as a latin1 string, and compares those strings byte by byte', () => {
    const d = digestSecretString(SECRET20);
    expect(d).toHaveLength(32);
    expect(Buffer.from(d, 'latin1').equals(digestSecret(SECRET20))).toBe(true);
    expect(digestStringsEqual(d, digestSecretString(SECRET20))).toBe(true);
    // A difference in any one byte, the first, the last, or one bit of the middle, is a mismatch.
    for (const i of [0, 15, 31]) {
      const b = Buffer.from(d, 'latin1');
      b[i]! ^= i === 15 ? 0x01 : 0x80;
      expect(digestStringsEqual(d, b.toString('latin1'))).toBe(false);
    }
    expect(digestStringsEqual(d, d.slice(0, 31))).toBe(false);
  });
});

/** The NG parser as it was written first (split and regular expressions), to check the hand-written one against. */
function referenceNg(token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3 && parts.length !== 4) return 'Token length not matching for API token';
  if (parts[0] !== 'pat' && parts[0] !== 'sat') return 'Invalid prefix for API token';
  const [account, id, secret] = parts.length === 4 ? [parts[1]!, parts[2]!, parts[3]!] : [null, parts[1]!, parts[2]!];
  if (account !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(account)) return 'malformed account id';
  if (!/^[0-9a-f]{24}$/.test(id)) return 'malformed token id';
  if (secret.length !== NG_SECRET_LENGTH || !/^[A-Za-z0-9]+$/.test(secret)) return 'malformed secret';
  return `ok ${parts[0]} ${account} ${id} ${secret}`;
}

describe('Harness NG parsing against the reference parser', () => {
  it('gives the same answer or reason on 20,000 mutated tokens', () => {
    const alphabet = 'pats.0af9AZ_-.. \u00e9\u0000xyz';
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const base = [generateNgToken('USER', ACCOUNT, TOKEN_ID).token, `sat.${TOKEN_ID}.${SECRET20}`, `pat.${'a'.repeat(64)}.${TOKEN_ID}.${SECRET20}`];
    for (let n = 0; n < 20_000; n++) {
      const chars = [...base[n % base.length]!];
      for (let m = 1 + rnd(3); m > 0; m--) {
        const at = rnd(chars.length + 1);
        const op = rnd(3);
        const c = alphabet[rnd(alphabet.length)]!;
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      const token = chars.join('');
      if (!token.startsWith('pat.') && !token.startsWith('sat.')) continue;
      if (token !== token.trim()) continue;
      const p = parseToken(token);
      const got = p.format === 'harness_ng' ? `ok ${p.prefix} ${p.accountId} ${p.tokenId} ${p.secret}` : p.format === null ? p.reason : `other ${p.format}`;
      expect(got, token).toBe(referenceNg(token));
    }
  });
});
