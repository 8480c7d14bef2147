/**
 * Harness CG ("FirstGen") compatibility (docs/compat/harness-cg.md): GraphQL at `/api/graphql`
 * and REST at `/api/api-keys`, each also under `/gateway`, over CG API keys and user groups.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { graphqlRoutes } from './graphql.js';
import { cgRestApi } from './restApiKeys.js';

export async function harnessCgProtocol(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  await app.register(graphqlRoutes, { services: opts.services });
  for (const prefix of ['/api', '/gateway/api']) await app.register(cgRestApi, { prefix, services: opts.services });
}
