/**
 * Server identity and session tokens. The server id and the session-signing secret are created
 * once, by whichever node gets there first, and kept in the database so that every node shares them.
 * The server id is public (ZenML's /info shows it). The secret signs ZenML and console session JWTs,
 * so whoever holds it can forge any session: it is sealed under the master key (AES-256-GCM, as CG
 * keys are), never stored plain. A database reader without the master key cannot recover it.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { signJwt, verifyJwt, type JwtClaims } from '../domain/jwt.js';
import type { Keyring } from '../domain/masterKey.js';
import { isUniqueViolation } from '../store/database.js';
import { deleteSetting, getSetting, insertSetting, replaceSetting } from '../store/settings.js';
import { PreconditionFailedError, UnauthenticatedError } from '../domain/errors.js';
import { makeScope } from '../domain/scope.js';
import { endConsoleSession, getConsoleSession, insertConsoleSession, type ConsoleSessionRecord } from '../store/consoleSessions.js';
import { mutate } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import type { UserService } from './users.js';
import { actorOf } from '../domain/verification.js';
import type { VerificationService, Verified, VerifyMeta, VerifyResult } from './verification.js';

const SERVER_ID = 'server.id';
/** Where Keyward before migration 0008 kept the secret in plain text; removed on start. */
export const LEGACY_PLAIN_SECRET = 'server.jwt_secret';
export const SEALED_SECRET = 'server.session_secret';
/** Binds the sealed value to its row, so a sealed CG key cannot be swapped in for it. */
const SECRET_AAD = 'keyward:settings:server.session_secret';
/** How long a node trusts its copy of the secret before re-reading the row (so a rotation reaches every node). */
const SECRET_RECHECK_MS = 5_000;

export type SecretPreparation = 'created' | 'migrated' | 'resealed' | 'unchanged';

export class SessionService {
  private serverIdValue: string | null = null;
  private cached: { sealed: string; secret: Buffer; checkedAt: number } | null = null;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly keyring: () => Keyring,
  ) {}

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

  async serverId(): Promise<string> {
    this.serverIdValue ??= await this.createOnce(SERVER_ID, () => randomUUID());
    return this.serverIdValue;
  }

  /**
   * Run at start. Creates the sealed secret when there is none; removes a plain secret left by an
   * older Keyward (a new secret replaces it, not a sealed copy of it: whoever could read the database
   * may have it, so the sessions it signed end); re-seals under the current master key after a
   * master-key rotation.
   */
  async prepareSecret(): Promise<SecretPreparation> {
    const db = this.ctx.store.db;
    const ring = this.keyring();
    const legacy = await getSetting(db, LEGACY_PLAIN_SECRET);
    let result: SecretPreparation = 'unchanged';
    const sealed = await getSetting(db, SEALED_SECRET);
    if (sealed === null) {
      try {
        await insertSetting(db, SEALED_SECRET, ring.seal(randomBytes(32).toString('base64url'), SECRET_AAD), this.ctx.clock.now());
        result = 'created';
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
    } else if (ring.isStale(sealed)) {
      // Opens under a previous key (or throws saying which key is missing), seals under the current one.
      const plain = this.openSealed(sealed);
      if (await replaceSetting(db, SEALED_SECRET, sealed, ring.seal(plain.toString('base64url'), SECRET_AAD))) result = 'resealed';
    }
    if (legacy !== null) {
      await deleteSetting(db, LEGACY_PLAIN_SECRET);
      result = 'migrated';
    }
    this.cached = null;
    return result;
  }

  /**
   * A new session secret: every ZenML and console session signed so far stops verifying (on this
   * node at once, on the others within SECRET_RECHECK_MS). Console session rows stay, but their
   * cookies no longer verify.
   */
  async rotateSecret(): Promise<void> {
    const db = this.ctx.store.db;
    const next = this.keyring().seal(randomBytes(32).toString('base64url'), SECRET_AAD);
    const current = await getSetting(db, SEALED_SECRET);
    if (current === null) await insertSetting(db, SEALED_SECRET, next, this.ctx.clock.now());
    else await db.updateTable('settings').set({ value: next }).where('key', '=', SEALED_SECRET).execute();
    await deleteSetting(db, LEGACY_PLAIN_SECRET);
    this.cached = null;
  }

  private openSealed(sealed: string): Buffer {
    try {
      return Buffer.from(this.keyring().open(sealed, SECRET_AAD), 'base64url');
    } catch (e) {
      throw new PreconditionFailedError(
        `The session-signing secret cannot be opened with this server's master key (${(e as Error).message}); ` +
          'start with the master key that sealed it (KEYWARD_MASTER_KEY_PREVIOUS), or run "keyward session-secret rotate" to replace it (this ends every session)',
      );
    }
  }

  /** The secret, re-read from the database at most every SECRET_RECHECK_MS. */
  private async secret(): Promise<Buffer> {
    const now = performance.now();
    if (this.cached && now - this.cached.checkedAt < SECRET_RECHECK_MS) return this.cached.secret;
    let sealed = await getSetting(this.ctx.store.db, SEALED_SECRET);
    if (sealed === null) {
      await this.prepareSecret();
      sealed = (await getSetting(this.ctx.store.db, SEALED_SECRET))!;
    }
    if (this.cached && this.cached.sealed === sealed) {
      this.cached.checkedAt = now;
      return this.cached.secret;
    }
    this.cached = { sealed, secret: this.openSealed(sealed), checkedAt: now };
    return this.cached.secret;
  }

  /** `audience` separates kinds of session (ZenML's is the bare server id), so one is never accepted as another. */
  async issue(sub: string, extra: Record<string, unknown>, ttlMs: number | null, audience?: string): Promise<string> {
    const serverId = await this.serverId();
    const secret = await this.secret();
    const now = this.ctx.clock.now();
    const aud = audience ? `${serverId}:${audience}` : serverId;
    const claims: JwtClaims = { sub, iss: serverId, aud, iat: Math.floor(now / 1000), ...extra };
    if (ttlMs !== null) claims.exp = Math.floor((now + ttlMs) / 1000);
    return signJwt(claims, secret);
  }

  async verify(token: string, audience?: string): Promise<JwtClaims | null> {
    const serverId = await this.serverId();
    const secret = await this.secret();
    return verifyJwt(token, secret, { iss: serverId, aud: audience ? `${serverId}:${audience}` : serverId }, this.ctx.clock.now());
  }
}

/** `accountId` picks the account when the email and password are a user's in several. */
export type ConsoleSignIn = { email: string; password: string; accountId?: string | undefined } | { token: string };

export interface ConsoleSession {
  /** The signed session JWT that goes in the cookie; never logged, never shown to scripts. */
  jwt: string;
  method: 'password' | 'token';
  expiresAt: number;
  verified: Verified;
}

const CONSOLE_AUDIENCE = 'console';
const SESSION_RESOURCE = 'SESSION';

/**
 * Console sign-in: email and password, or a personal access token exchanged for a session. A
 * session is a database row (so signing out ends it on every node) named by a signed JWT in an
 * HttpOnly cookie. Every request re-checks the row, and the user (password sign-in) or the token
 * (token sign-in) through the verification service, so deactivation or revocation ends it at once.
 */
export class ConsoleSessionService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly sessions: SessionService,
    private readonly users: UserService,
    private readonly verification: VerificationService,
  ) {}

  async start(input: ConsoleSignIn, ttlMs: number, meta: VerifyMeta & { requestId?: string } = {}): Promise<ConsoleSession> {
    const now = this.ctx.clock.now();
    let verified: Verified;
    let tokenId: string | null = null;
    if ('token' in input) {
      const v = await this.verification.verify(input.token, meta);
      // One answer for every failure: the caller learns nothing about a token they do not hold.
      if (!v.valid) throw new UnauthenticatedError('The token is not valid', 'invalid_credentials');
      if (v.format !== 'harness_ng' || v.principal.type !== 'USER') {
        throw new UnauthenticatedError('Only a personal access token (pat.…) can sign in to the console', 'not_personal');
      }
      verified = v;
      tokenId = v.tokenId;
    } else {
      const user = await this.users.authenticate(input.email, input.password, { accountId: input.accountId, ip: meta.ip ?? null, userAgent: meta.userAgent ?? null, client: 'console', requestId: meta.requestId });
      const v = await this.verification.userSession(user.id);
      if (!v.valid) throw new UnauthenticatedError('Invalid email or password', 'invalid_credentials');
      verified = v;
    }
    const expiresAt = Math.min(now + ttlMs, verified.expiresAt ?? Number.POSITIVE_INFINITY);
    // 128 random bits: the row id is never guessable, though the JWT's signature already guards it.
    const id = randomBytes(16).toString('base64url');
    const caller: Caller = { actor: actorOf(verified), requestId: meta.requestId };
    const method = tokenId ? 'token' : 'password';
    await mutate(this.ctx, caller, { action: 'session.create', resourceType: SESSION_RESOURCE, resourceId: id, scope: makeScope(verified.accountId) }, async (tx) => {
      await insertConsoleSession(tx, { id, accountId: verified.accountId, userId: verified.principal.id, tokenId, createdAt: now, expiresAt, endedAt: null });
      return { result: undefined, details: { method } };
    });
    const jwt = await this.sessions.issue(verified.principal.id, { sid: id }, expiresAt - now, CONSOLE_AUDIENCE);
    return { jwt, method, expiresAt, verified };
  }

  /** The session's principal now, or why not. */
  async resolve(jwt: string, meta: VerifyMeta = {}): Promise<{ verified: VerifyResult; session: ConsoleSessionRecord | null }> {
    const claims = await this.sessions.verify(jwt, CONSOLE_AUDIENCE);
    const sid = claims && typeof claims.sid === 'string' ? claims.sid : null;
    const row = sid ? await getConsoleSession(this.ctx.store.db, sid) : null;
    if (!claims || !row || row.userId !== claims.sub) return { verified: { valid: false, reason: 'unknown' }, session: null };
    if (row.endedAt !== null) return { verified: { valid: false, reason: 'deleted' }, session: null };
    if (this.ctx.clock.now() >= row.expiresAt) return { verified: { valid: false, reason: 'expired' }, session: null };
    const v = row.tokenId ? await this.verification.tokenSession(row.tokenId, meta) : await this.verification.userSession(row.userId);
    if (v.valid && v.principal.id !== row.userId) return { verified: { valid: false, reason: 'unknown' }, session: null };
    return { verified: v, session: row };
  }

  /** Signs out: the session ends for every node. Signing out of an ended or unknown session is a no-op. */
  async end(jwt: string, requestId?: string): Promise<void> {
    const { verified, session } = await this.resolve(jwt);
    if (!session) return;
    const now = this.ctx.clock.now();
    const caller: Caller = { actor: verified.valid ? actorOf(verified) : { type: 'SYSTEM', id: 'console' }, requestId };
    await mutate(this.ctx, caller, { action: 'session.end', resourceType: SESSION_RESOURCE, resourceId: session.id, scope: makeScope(session.accountId) }, async (tx) => {
      await endConsoleSession(tx, session.id, now);
      return { result: undefined };
    });
  }
}
