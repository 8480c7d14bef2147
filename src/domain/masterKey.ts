/**
 * Sealing a value that must be readable again: AES-256-GCM under a master key. Only Harness CG keys
 * need this (an admin may read a CG key back, docs/compat/harness-cg.md); every other secret is
 * stored as a digest only. See docs/compat/harness-cg.md for the choice and for rotation.
 *
 * Sealed form: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id is the first 8
 * bytes of SHA-256 over the key, so a keyring can pick the key that sealed a value, and a value
 * sealed under a key the server does not hold fails with a clear message rather than a bad tag.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const MASTER_KEY_BYTES = 32;

/** Parses a 32-byte key given as 64 hex characters or as base64 / base64url; throws with what was wrong. */
export function parseMasterKey(raw: string, source = 'KEYWARD_MASTER_KEY'): Buffer {
  const v = raw.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(v)) key = Buffer.from(v, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)) key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== MASTER_KEY_BYTES) {
    throw new Error(`${source} must be 32 bytes written as 64 hex characters or as base64 (44 characters), e.g. the output of "openssl rand -base64 32"`);
  }
  return key;
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

/** The current key seals; the current and every previous key open (for rotation). */
export class Keyring {
  private readonly byId = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.currentId = masterKeyId(current);
    for (const k of [current, ...previous]) this.byId.set(masterKeyId(k), k);
  }

  /** A fresh 96-bit IV per value (GCM's recommended size); the 128-bit tag authenticates it. `aad` binds it to its row. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', this.currentId, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new Error('sealed value has an unknown format');
    const key = this.byId.get(parts[1]!);
    if (!key) throw new Error(`sealed under master key ${parts[1]}, which this server does not hold (set KEYWARD_MASTER_KEY_PREVIOUS)`);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(parts[3]!, 'base64url')), d.final()]).toString('utf8');
  }

  /** True when the value was sealed under an older key and should be sealed again. */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.currentId;
  }
}
