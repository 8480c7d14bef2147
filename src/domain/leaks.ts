/**
 * Leaked-token reports from a secret scanner (GitHub's secret scanning partner program,
 * docs/leak-reports.md): the scanner's public keys, in GitHub's key-list format, and the check of
 * a report's signature (ECDSA P-256 with SHA-256, DER, base64) over the exact bytes of its body.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface ScannerKey {
  id: string;
  key: KeyObject;
  current: boolean;
}

/** Reads `{"public_keys":[{"key_identifier","key","is_current"}]}`; throws naming what is wrong. */
export function parseScannerKeys(json: string, source: string): ScannerKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const list = (doc as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) throw new Error(`${source}: expected {"public_keys":[...]}`);
  return list.map((k: unknown, i) => {
    const e = k as { key_identifier?: unknown; key?: unknown; is_current?: unknown };
    if (typeof e.key_identifier !== 'string' || e.key_identifier === '' || typeof e.key !== 'string') {
      throw new Error(`${source}: public_keys[${i}] needs key_identifier and key (PEM)`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey(e.key);
    } catch {
      throw new Error(`${source}: public_keys[${i}].key is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec') throw new Error(`${source}: public_keys[${i}].key is not an ECDSA key`);
    return { id: e.key_identifier, key, current: e.is_current === true };
  });
}

export type SignatureCheck = 'ok' | 'unsigned' | 'unknown_key' | 'bad_signature';

export function checkScannerSignature(keys: readonly ScannerKey[], keyId: string | undefined, signature: string | undefined, body: Buffer): SignatureCheck {
  if (!keyId || !signature) return 'unsigned';
  const k = keys.find((x) => x.id === keyId);
  if (!k) return 'unknown_key';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature) || signature.length > 512) return 'bad_signature';
  try {
    return verify('sha256', body, { key: k.key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64')) ? 'ok' : 'bad_signature';
  } catch {
    return 'bad_signature';
  }
}

/** One match in a report: GitHub's `{token, type, url, source}`. */
export interface LeakMatch {
  token: string;
  type: string;
  url: string | null;
  source: string | null;
}

/** The answer per match, GitHub's format: the token's SHA-256 (never the token itself), its type and the verdict. */
export interface LeakVerdict {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

/** Matches per report; a report larger than this is refused (and the body limit bounds it first). */
export const MAX_LEAK_MATCHES = 100;
