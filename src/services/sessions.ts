/**
 * Server identity and session tokens. The server id and the JWT signing secret are created once,
 * by whichever node gets there first, and kept in the database so that every node shares them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { signJwt, verifyJwt, type JwtClaims } from '../domain/jwt.js';
import { isUniqueViolation } from '../store/database.js';
import { getSetting, insertSetting } from '../store/settings.js';
import type { ServiceContext } from './context.js';

export class SessionService {
  private identity: { serverId: string; secret: Buffer } | null = null;

  constructor(private readonly ctx: ServiceContext) {}

  private async createOnce(key: string, make: () => string): Promise<string> {
    const existing = await getSetting(this.ctx.store.db, key);
    if (existing !== null) return existing;
    try {
      await insertSetting(this.ctx.store.db, key, make(), this.ctx.clock.now());
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    return (await getSetting(this.ctx.store.db, key))!;
  }

  async serverIdentity(): Promise<{ serverId: string; secret: Buffer }> {
    if (!this.identity) {
      const serverId = await this.createOnce('server.id', () => randomUUID());
      const secret = Buffer.from(await this.createOnce('server.jwt_secret', () => randomBytes(32).toString('base64url')), 'base64url');
      this.identity = { serverId, secret };
    }
    return this.identity;
  }

  async issue(sub: string, extra: Record<string, unknown>, ttlMs: number | null): Promise<string> {
    const { serverId, secret } = await this.serverIdentity();
    const now = this.ctx.clock.now();
    const claims: JwtClaims = { sub, iss: serverId, aud: serverId, iat: Math.floor(now / 1000), ...extra };
    if (ttlMs !== null) claims.exp = Math.floor((now + ttlMs) / 1000);
    return signJwt(claims, secret);
  }

  async verify(token: string): Promise<JwtClaims | null> {
    const { serverId, secret } = await this.serverIdentity();
    return verifyJwt(token, secret, { iss: serverId, aud: serverId }, this.ctx.clock.now());
  }
}
