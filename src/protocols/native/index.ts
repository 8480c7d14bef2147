/** The native API, `/v1`: verification, whoami, accounts, users, audit, console sessions. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { accountRoutes } from './accounts.js';
import { auditRoutes } from './audit.js';
import { credentialRoutes } from './credentials.js';
import { sessionRoutes, type ConsoleSessionOptions } from './sessions.js';
import { installNativeErrors } from './errors.js';
import { usageRoutes } from './usage.js';
import { policyRoutes } from './policies.js';
import { verifyRoutes } from './verify.js';
import { forwardAuthRoutes } from './forwardAuth.js';
import { leakRoutes } from './leaks.js';
import { webhookRoutes } from './webhooks.js';
import { invalidationRoutes } from './invalidations.js';
import { typed } from '../contract/index.js';

export async function nativeProtocol(app: FastifyInstance, opts: { services: Services; console?: ConsoleSessionOptions }): Promise<void> {
  installNativeErrors(app);
  verifyRoutes(typed(app), opts.services);
  forwardAuthRoutes(typed(app), opts.services);
  invalidationRoutes(typed(app), opts.services);
  accountRoutes(typed(app), opts.services);
  auditRoutes(typed(app), opts.services);
  credentialRoutes(typed(app), opts.services);
  usageRoutes(typed(app), opts.services);
  policyRoutes(typed(app), opts.services);
  webhookRoutes(typed(app), opts.services);
  leakRoutes(typed(app), opts.services);
  sessionRoutes(typed(app), opts.services, opts.console ?? { sessionTtlMs: 12 * 60 * 60 * 1000 });
}
