/**
 * HS256 JSON Web Tokens, just what ZenML sessions need: sign, and verify signature, algorithm,
 * issuer, audience and (when present) expiry. Kept small and explicit rather than a dependency.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  sub: string;
  iss: string;
  aud: string;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signJwt(claims: JwtClaims, secret: Buffer): string {
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

export function looksLikeJwt(s: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(s) && s.length < 4096;
}

/** The claims when the token is intact and meant for `expected` (issuer and audience); null otherwise. */
export function verifyJwt(token: string, secret: Buffer, expected: { iss: string; aud: string }, nowMs: number, leewaySec = 10): JwtClaims | null {
  if (!looksLikeJwt(token)) return null;
  const [h, p, sig] = token.split('.') as [string, string, string];
  let header: { alg?: string };
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JwtClaims;
  } catch {
    return null;
  }
  // Only HS256: never "none", never an algorithm the token itself picks.
  if (header.alg !== 'HS256') return null;
  const expectedSig = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expectedSig.length || !timingSafeEqual(given, expectedSig)) return null;
  if (typeof claims !== 'object' || claims === null || typeof claims.sub !== 'string') return null;
  if (claims.iss !== expected.iss || claims.aud !== expected.aud) return null;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || nowMs / 1000 > claims.exp + leewaySec)) return null;
  return claims;
}
