/**
 * GET /v1/accounts/{accountId}/invalidations: the account's invalidations as Server-Sent Events, for
 * SDKs that cache verification answers in their own process (packages/sdk). What is sent, replayed
 * and to whom is decided in src/services/invalidationStream.ts; this file speaks SSE over the raw
 * response (the reply is hijacked, so the event loop is never held and Fastify sends nothing more).
 */
import type { FastifyRequest } from 'fastify';
import type { ContractApp } from '../contract/index.js';
import { PermissionDeniedError } from '../../domain/errors.js';
import type { Services } from '../../services/index.js';
import type { VerifyResult } from '../../services/verification.js';
import { callerOf, clientOf, consoleSessionJwt, presentedToken } from '../auth/index.js';
import { accountParams, errorResponse, nativeCaller, secured } from './context.js';

const DESCRIPTION = [
  'A `text/event-stream` of what may change a verification answer in the account: a token revoked, deleted or rotated out, a key deleted, a principal deactivated or deleted, a role, group or permission changed. Needs `core_account_view` on the account.',
  '',
  'Events: `ready` (sent first; the stream is in step from here), `invalidate` with JSON data `{"kind":"token","tokenIds":[...]}`, `{"kind":"apiKey","apiKeyIds":[...]}`, `{"kind":"principal","principalId":"..."}`, `{"kind":"permissions","accountId":"..."}` or `{"kind":"all"}` (flush everything), and `reset` (flush everything: the `Last-Event-ID` sent is not this node\'s or too old to replay). Comment lines (`: heartbeat`) keep the connection open (KEYWARD_STREAM_HEARTBEAT_MS).',
  '',
  'Each event has an id `<node>-<seq>`. Reconnect with `Last-Event-ID` to get the events missed meanwhile, from a bounded buffer (KEYWARD_STREAM_BUFFER_EVENTS). A subscriber that does not read fast enough is disconnected (KEYWARD_STREAM_MAX_PENDING_BYTES); so is one whose own token stops being valid. 503 while this node may be missing other nodes\' invalidations. See docs/integrations.md.',
].join('\n');

const ids = { type: 'array', items: { type: 'string' } } as const;
const account = { type: 'string', description: 'The account the change belongs to.' } as const;
/** The data of an `invalidate` event (the `Invalidation` of src/services/context.ts, as sent). */
const invalidationData = {
  description: 'The JSON data of each `invalidate` event (the stream itself is text/event-stream).',
  oneOf: [
    { type: 'object', required: ['kind', 'tokenIds'], properties: { kind: { type: 'string', enum: ['token'] }, tokenIds: ids, accountId: account } },
    { type: 'object', required: ['kind', 'apiKeyIds'], properties: { kind: { type: 'string', enum: ['apiKey'] }, apiKeyIds: ids, accountId: account } },
    { type: 'object', required: ['kind', 'principalId'], properties: { kind: { type: 'string', enum: ['principal'] }, principalId: { type: 'string' }, accountId: account } },
    { type: 'object', required: ['kind', 'accountId'], properties: { kind: { type: 'string', enum: ['permissions'] }, accountId: account } },
    { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['all'] } } },
  ],
} as const;

/** The request's credential judged again (after an event touched it). */
function verifyAgain(services: Services, req: FastifyRequest): Promise<VerifyResult> {
  const token = presentedToken(req);
  if (token !== null) return services.verification.verify(token, clientOf(req));
  const jwt = consoleSessionJwt(req);
  return jwt === null ? Promise.resolve({ valid: false, reason: 'malformed' }) : services.consoleSessions.resolve(jwt, clientOf(req)).then((r) => r.verified);
}

export function invalidationRoutes(app: ContractApp, services: Services): void {
  const stream = services.invalidationStream;
  // Open streams would keep the server from closing.
  app.addHook('preClose', (done) => {
    stream.closeAll();
    done();
  });

  app.get(
    '/v1/accounts/:accountId/invalidations',
    {
      schema: {
        tags: ['verification'],
        summary: "The account's invalidations, as Server-Sent Events",
        description: DESCRIPTION,
        security: secured,
        params: accountParams,
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 200, description: 'The id of the last event received, to replay what followed it.' } } },
        response: {
          200: {
            description: 'The event stream (open until the client or the server ends it).',
            content: { 'text/event-stream': { schema: invalidationData } },
          },
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const { caller, verified } = await nativeCaller(services, req);
      const accountId = req.params.accountId;
      await stream.authorize(caller, accountId);
      const lastEventId = req.headers['last-event-id'];
      const raw = reply.raw;
      const stillAllowed = async () => {
        const v = await verifyAgain(services, req);
        if (!v.valid) return false;
        try {
          await stream.authorize(callerOf(v, req), accountId);
          return true;
        } catch (e) {
          if (e instanceof PermissionDeniedError) return false;
          throw e;
        }
      };
      // Refused (503) through the ordinary error path while this node is out of step; from here on the
      // response is the raw stream.
      stream.assertAccepting();
      reply.hijack();
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx: do not buffer the stream.
        'x-accel-buffering': 'no',
      });
      const open = () => !raw.destroyed && !raw.writableEnded;
      const { unsubscribe } = stream.subscribe({ accountId, verified, stillAllowed }, typeof lastEventId === 'string' ? lastEventId : undefined, {
        write: (f) => void (open() && raw.write(f)),
        pending: () => raw.writableLength,
        close: () => void (open() && raw.end()),
      });
      raw.on('close', unsubscribe);
      raw.on('error', unsubscribe);
      // The client may have gone before the listeners were attached.
      if (raw.destroyed) unsubscribe();
    },
  );
}
