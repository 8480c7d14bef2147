/**
 * `/v1/sessions`: the console's sign-in. The session JWT travels only in an HttpOnly,
 * SameSite=Strict cookie (Secure over https), never in a body a script could read. Sign-in and
 * sign-out need the `X-Keyward-Console: 1` header too, so another site cannot sign a browser in or
 * out (login CSRF).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError, UnauthenticatedError } from '../../domain/errors.js';
import { clientOf, CONSOLE_COOKIE, CONSOLE_HEADER, consoleSessionJwt, readCookie } from '../auth/index.js';
import type { Services } from '../../services/index.js';
import type { ConsoleSignIn } from '../../services/sessions.js';
import type { Verified } from '../../services/verification.js';
import { nativeErrors } from './context.js';
import type { ContractApp } from '../contract/index.js';

export interface ConsoleSessionOptions {
  /** Session lifetime; a token sign-in also ends when the token expires. */
  sessionTtlMs: number;
}

const sessionSchema = {
  type: 'object',
  properties: {
    method: { type: 'string', enum: ['password', 'token'] },
    expiresAt: { type: 'integer' },
    /** Seconds left, on the server's clock: a browser whose clock is off still knows when the session ends. */
    expiresIn: { type: 'integer' },
    accountId: { type: 'string' },
    principal: {
      type: 'object',
      properties: { type: { type: 'string' }, id: { type: 'string' }, identifier: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } },
    },
    permissions: { type: 'array', items: { type: 'string' } },
  },
} as const;

function cookie(req: FastifyRequest, value: string, maxAgeSec: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${CONSOLE_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure}`;
}

function requireConsoleHeader(req: FastifyRequest): void {
  if (req.headers[CONSOLE_HEADER] !== '1') {
    throw InvalidArgumentError.field(CONSOLE_HEADER, 'the console sends "X-Keyward-Console: 1"; other callers use a token in X-Api-Key');
  }
}

function view(v: Verified, method: string, expiresAt: number, now: number) {
  const p = v.principal;
  return { method, expiresAt, expiresIn: Math.max(0, Math.floor((expiresAt - now) / 1000)), accountId: v.accountId, principal: { type: p.type, id: p.id, identifier: p.identifier, name: p.name, email: p.email }, permissions: v.permissions };
}

export function sessionRoutes(app: ContractApp, services: Services, opts: ConsoleSessionOptions): void {
  const tags = ['console sessions'];

  app.post(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'Sign in to the console with email and password, or exchange a personal access token for a session',
        description:
          'Sets an HttpOnly, SameSite=Strict session cookie. Needs the header `X-Keyward-Console: 1`. Every failure to sign in is the same 401. Cookie-authenticated requests to any Keyward API must carry the same header.',
        headers: { type: 'object', properties: { [CONSOLE_HEADER]: { type: 'string' } } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 254 },
            password: { type: 'string', maxLength: 256 },
            accountId: { type: 'string', maxLength: 64, description: 'Only when the email and password belong to users of several accounts' },
            token: { type: 'string', maxLength: 4096 },
          },
        },
        response: { 201: sessionSchema, ...nativeErrors(400, 401) },
      },
    },
    async (req, reply) => {
      requireConsoleHeader(req);
      const b = req.body;
      let input: ConsoleSignIn;
      if (b.token !== undefined && b.token.trim() !== '') input = { token: b.token.trim() };
      else if (b.email !== undefined && b.email.trim() !== '') {
        if (!b.password) throw InvalidArgumentError.field('password', 'is required');
        input = { email: b.email, password: b.password, ...(b.accountId ? { accountId: b.accountId } : {}) };
      } else throw new InvalidArgumentError('Give an email and password, or a token', [{ field: 'email', message: 'is required (or sign in with a token)' }], 'field');
      const s = await services.consoleSessions.start(input, opts.sessionTtlMs, { ...clientOf(req), requestId: String(req.id) });
      const now = services.ctx.clock.now();
      reply.header('set-cookie', cookie(req, s.jwt, Math.max(1, Math.floor((s.expiresAt - now) / 1000))));
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(view(s.verified, s.method, s.expiresAt, now));
    },
  );

  app.get(
    '/v1/sessions/current',
    {
      schema: {
        tags,
        summary: 'The console session of this browser',
        description: 'Needs the session cookie and `X-Keyward-Console: 1`; 401 when there is no live session.',
        response: { 200: sessionSchema, ...nativeErrors(401) },
      },
    },
    async (req, reply) => {
      const jwt = consoleSessionJwt(req);
      if (jwt === null) throw new UnauthenticatedError('No console session', 'malformed');
      const { verified, session } = await services.consoleSessions.resolve(jwt, clientOf(req));
      if (!verified.valid || !session) throw new UnauthenticatedError('The session has ended; sign in again', verified.valid ? 'unknown' : verified.reason);
      reply.header('cache-control', 'no-store');
      return view(verified, session.tokenId ? 'token' : 'password', session.expiresAt, services.ctx.clock.now());
    },
  );

  app.delete(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'Sign out: ends the session on every node and clears the cookie',
        description: 'Needs `X-Keyward-Console: 1`. Answers 204 even when there was no live session.',
        response: { 204: { type: 'null' }, ...nativeErrors(400) },
      },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      requireConsoleHeader(req);
      const jwt = readCookie(req, CONSOLE_COOKIE);
      if (jwt) await services.consoleSessions.end(jwt, String(req.id));
      reply.header('set-cookie', cookie(req, '', 0));
      return reply.status(204).send();
    },
  );
}
