/**
 * Harness CG GraphQL at `POST /api/graphql?accountId=` (and under `/gateway`), executed by
 * mercurius. Bodies: JSON `{query, variables, operationName}`, `application/graphql` (the query
 * itself) and `text/plain` (either), as harness-core's GraphQLResource takes them. Answers are
 * graphql-java's spec map: `errors` (only when there are errors) then `data`; never
 * `responseMessages`. Limits: body size, query length and tokens, depth (15, the standard
 * introspection query's) and a cost that multiplies list fields by their `limit`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import {
  GraphQLError,
  GraphQLScalarType,
  Kind,
  parse,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Services } from '../../services/index.js';
import { apiKeyResolvers, apiKeySchema } from './apiKey.js';
import { cgAuth, type CgContext } from './context.js';
import { CgGraphQLHttpError, formatGqlError, gqlRequestError, gqlUnavailable, invalidApiKey, sendGqlUnavailable, type Classification } from './errors.js';
import { UnavailableError } from '../../domain/errors.js';
import { MAX_PAGE, userGroupResolvers, userGroupSchema } from './userGroups.js';

export interface GqlContext {
  services: Services;
  cg: CgContext;
}

export const GRAPHQL_LIMITS = {
  /** Bytes of request body. */
  bodyBytes: 64 * 1024,
  /** Characters of query text. */
  queryChars: 16 * 1024,
  /** Lexical tokens of the query (graphql-js stops parsing beyond this). */
  queryTokens: 4000,
  /** Nesting depth; the standard introspection query needs 15. */
  depth: 15,
  /** Fields resolved, with list fields counted `limit` times (a variable limit counts as the maximum). */
  cost: 5000,
} as const;

const baseSchema = /* GraphQL */ `
"Epoch milliseconds, as Harness's GraphQL serializes dates."
scalar DateTime

"framework.graphql"
type PageInfo {
  hasMore: Boolean
  total: Int
  offset: Int
  limit: Int
}

type Query {
  _keyward: String
}

type Mutation {
  _keyward: String
}
`;

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => (typeof v === 'number' ? v : null),
  parseValue: (v) => (typeof v === 'number' ? v : null),
});

function limitOf(args: readonly { name: { value: string }; value: ValueNode }[] | undefined): number | null {
  const a = args?.find((x) => x.name.value === 'limit');
  if (!a) return null;
  if (a.value.kind === Kind.INT) return Math.min(Math.max(Number(a.value.value), 0), MAX_PAGE);
  return MAX_PAGE;
}

/** Cost: every field counts once per time it can be resolved; a field with `limit` multiplies its children. */
export function costRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const cost = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let total = 0;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          const n = limitOf(s.arguments);
          total += 1 + (n === null ? 1 : Math.max(n, 1)) * cost(s.selectionSet, seen);
        } else if (s.kind === Kind.INLINE_FRAGMENT) total += cost(s.selectionSet, seen);
        else {
          const f = fragments.get(s.name.value);
          if (f && !seen.has(f.name.value)) total += cost(f.selectionSet, new Set([...seen, f.name.value]));
        }
        if (total > max) return total;
      }
      return total;
    };
    return {
      OperationDefinition(node) {
        const c = cost(node.selectionSet, new Set());
        if (c > max) context.reportError(new GraphQLError(`Query cost ${c > max * 10 ? `over ${max * 10}` : c} exceeds the maximum cost of ${max}`, { nodes: [node] }));
      },
    };
  };
}

interface GraphQLBody {
  query: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

/** The query, variables and operation name from any body GraphQLResource accepts. */
function readBody(req: FastifyRequest): GraphQLBody {
  let b: unknown = req.body;
  if (typeof b === 'string') {
    // text/plain: a JSON request, or the query itself (which may also start with "{").
    let json: unknown;
    try {
      json = JSON.parse(b);
    } catch {
      json = undefined;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return { query: b, variables: undefined, operationName: undefined };
    b = json;
  }
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw gqlRequestError(400, 'Request body must be a JSON object with a "query" string', 'InvalidSyntax');
  const o = b as Record<string, unknown>;
  if (typeof o.query !== 'string' || o.query.trim() === '') throw gqlRequestError(400, 'Request body must carry a non-empty "query" string', 'InvalidSyntax');
  let variables = o.variables;
  if (typeof variables === 'string') {
    try {
      variables = variables.trim() === '' ? undefined : JSON.parse(variables);
    } catch {
      throw gqlRequestError(400, '"variables" is not valid JSON', 'InvalidSyntax');
    }
  }
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw gqlRequestError(400, '"variables" must be an object', 'InvalidSyntax');
  }
  if (o.operationName !== undefined && o.operationName !== null && typeof o.operationName !== 'string') {
    throw gqlRequestError(400, '"operationName" must be a string', 'InvalidSyntax');
  }
  return { query: o.query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: (o.operationName as string | null) ?? undefined };
}

function specMap(errors: Array<ReturnType<typeof formatGqlError>> | undefined, data: unknown, hasData: boolean) {
  return { ...(errors && errors.length > 0 ? { errors } : {}), ...(hasData ? { data } : {}) };
}

export async function graphqlRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  await app.register(mercurius, {
    schema: [baseSchema, apiKeySchema, userGroupSchema],
    resolvers: { DateTime, ...merge(apiKeyResolvers, userGroupResolvers) } as never,
    routes: false,
    graphiql: false,
    queryDepth: GRAPHQL_LIMITS.depth,
    validationRules: [costRule(GRAPHQL_LIMITS.cost)],
    graphql: { parseOptions: { maxTokens: GRAPHQL_LIMITS.queryTokens } },
    // Errors are shaped here, as graphql-java does, not by mercurius.
    errorFormatter: (execution) => ({ statusCode: 200, response: execution }),
  });

  app.addContentTypeParser('application/graphql', { parseAs: 'string', bodyLimit: GRAPHQL_LIMITS.bodyBytes }, (_req, body, done) => done(null, String(body)));

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const cg = await cgAuth(services, req);
      if (!cg) throw invalidApiKey();
      const body = readBody(req);
      if (body.query.length > GRAPHQL_LIMITS.queryChars) {
        throw gqlRequestError(413, `Query is ${body.query.length} characters long; the maximum is ${GRAPHQL_LIMITS.queryChars}`);
      }
      // Parse here first: mercurius would try an unparseable query as a JSON AST.
      try {
        parse(body.query, { maxTokens: GRAPHQL_LIMITS.queryTokens });
      } catch (e) {
        const err = e instanceof GraphQLError ? e : new GraphQLError(String(e));
        return reply.status(200).send(specMap([formatGqlError(err, 'InvalidSyntax')], null, false));
      }
      const context: GqlContext = { services, cg };
      try {
        const result = await app.graphql(body.query, context as never, body.variables, body.operationName);
        const down = gqlUnavailable(result.errors ?? []);
        if (down) return sendGqlUnavailable(reply, down);
        const errors = (result.errors ?? []).map((e) => formatGqlError(e as GraphQLError, 'DataFetchingException'));
        return reply.status(200).send(specMap(errors, result.data ?? null, true));
      } catch (e) {
        const errs = (e as { errors?: unknown[] }).errors;
        if (Array.isArray(errs)) {
          const cls: Classification = 'ValidationError';
          return reply.status(200).send(specMap(errs.map((x) => formatGqlError(x instanceof GraphQLError ? x : new GraphQLError(String((x as Error).message ?? x)), cls)), null, false));
        }
        throw e;
      }
    } catch (e) {
      if (e instanceof CgGraphQLHttpError) return reply.status(e.httpStatus).send(e.body);
      if (e instanceof UnavailableError) return sendGqlUnavailable(reply, e);
      req.log.error({ err: e }, 'graphql request failed');
      return reply.status(500).send({ errors: [{ message: 'Internal server error', extensions: { classification: 'ExecutionAborted' } }] });
    }
  };

  app.setErrorHandler((err: { code?: string; statusCode?: number }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ errors: [{ message: `Request body is larger than ${GRAPHQL_LIMITS.bodyBytes} bytes`, extensions: { classification: 'ValidationError' } }] });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ errors: [{ message: 'Send the request as application/json, application/graphql or text/plain', extensions: { classification: 'ValidationError' } }] });
    if (typeof err.statusCode === 'number' && err.statusCode < 500) {
      return reply.status(400).send({ errors: [{ message: 'Request body could not be read as JSON', extensions: { classification: 'InvalidSyntax' } }] });
    }
    req.log.error({ err }, 'graphql request failed');
    return reply.status(500).send({ errors: [{ message: 'Internal server error', extensions: { classification: 'ExecutionAborted' } }] });
  });

  for (const path of ['/api/graphql', '/gateway/api/graphql']) {
    app.post(path, { bodyLimit: GRAPHQL_LIMITS.bodyBytes, schema: { hide: true } }, handler);
  }
}

function merge(...parts: Array<Record<string, Record<string, unknown>>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of parts) for (const [type, fields] of Object.entries(p)) out[type] = { ...out[type], ...fields };
  return out;
}
