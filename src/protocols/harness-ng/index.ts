/**
 * Harness NextGen REST, served under `/ng/api` and `/gateway/ng/api` (docs/compat/harness-ng.md), so that
 * Harness's Go SDK, its Terraform provider and scripts written against app.harness.io work as-is.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { apiKeyRoutes } from './apikey.js';
import { ngResourceNotFound, sendNg } from './errors.js';
import { serviceAccountRoutes } from './serviceaccount.js';
import { tokenRoutes } from './token.js';
import { organizationRoutes } from './organizations.js';
import { roleAssignmentRoutes } from './roleassignments.js';
import { userGroupRoutes } from './usergroups.js';
import { documentedResponses, typed } from '../contract/index.js';

async function ngApi(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendNg(err, req, reply));
  // JAX-RS answers an unknown route with NotFound, which Harness maps to 400.
  app.setNotFoundHandler((req, reply) => sendNg(ngResourceNotFound(req), req, reply));
  documentedResponses(app);
  apiKeyRoutes(typed(app), opts.services);
  tokenRoutes(typed(app), opts.services);
  serviceAccountRoutes(typed(app), opts.services);
  organizationRoutes(typed(app), opts.services);
  userGroupRoutes(typed(app), opts.services);
}

async function authzApi(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendNg(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendNg(ngResourceNotFound(req), req, reply));
  documentedResponses(app);
  roleAssignmentRoutes(typed(app), opts.services);
}

export async function harnessNgProtocol(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  for (const prefix of ['/ng/api', '/gateway/ng/api']) await app.register(ngApi, { prefix, services: opts.services });
  for (const prefix of ['/authz/api', '/gateway/authz/api']) await app.register(authzApi, { prefix, services: opts.services });
}
