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
import { invalidationRoutes } from './invalidations.js';

export async function nativeProtocol(app: FastifyInstance, opts: { services: Services; console?: ConsoleSessionOptions }): Promise<void> {
  installNativeErrors(app);
  verifyRoutes(app, opts.services);
  forwardAuthRoutes(app, opts.services);
  invalidationRoutes(app, opts.services);
  accountRoutes(app, opts.services);
  auditRoutes(app, opts.services);
  credentialRoutes(app, opts.services);
  usageRoutes(app, opts.services);
  policyRoutes(app, opts.services);
  sessionRoutes(app, opts.services, opts.console ?? { sessionTtlMs: 12 * 60 * 60 * 1000 });
}
