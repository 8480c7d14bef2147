/**
 * Harness CG GraphQL at `POST /api/graphql?accountId=` (and under `/gateway`), executed by
 * mercurius. Bodies: JSON `{query, variables, operationName}`, `application/graphql` (the query
 * itself) and `text/plain` (either), as harness-core's GraphQLResource takes them. Answers are
 * graphql-java's spec map: `errors` (only when there are errors) then `data`; never
 * `responseMessages`. Limits: body size, query length and tokens, depth (15, the standard
 * introspection query's) and a cost that multiplies list fields by their `limit` (a variable's
 * actual value), checked before the query runs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import {
  GraphQLError,
  GraphQLScalarType,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Services } from '../../services/index.js';
import { apiKeyResolvers, apiKeySchema } from './apiKey.js';
import { cgAuth, type GqlContext } from './context.js';
import { isKeywardError, UnavailableError } from '../../domain/errors.js';
import { CgGraphQLHttpError, formatGqlError, gqlRefusal, gqlRequestError, gqlUnavailable, invalidApiKey, sendGqlUnavailable, type Classification } from './errors.js';
import { MAX_PAGE } from './render.js';
import { userGroupResolvers, userGroupSchema } from './userGroups.js';
import { userResolvers, userSchema } from './users.js';
import { cgGraphql } from './contracts.js';
import { documentedResponses } from '../contract/index.js';

export const GRAPHQL_LIMITS = {
  /** Bytes of request body. */
  bodyBytes: 64 * 1024,
  /** Characters of query text. */
  queryChars: 16 * 1024,
  /** Lexical tokens of the query (graphql-js stops parsing beyond this). */
  queryTokens: 4000,
  /** Nesting depth; the standard introspection query needs 15. */
  depth: 15,
  /**
   * Fields resolved, with list fields counted `limit` times (a variable's actual value). Harness's Go
   * SDK's `cd.UserClient.ListUserGroups` costs 531 at limit 10 and 5,301 at limit 100, the page cap.
   */
  cost: 10_000,
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

/** A `limit` argument's value: a literal, or the variable's actual value (else its default), capped at a page; absent: null. */
function limitOf(args: readonly { name: { value: string }; value: ValueNode }[] | undefined, vars: Readonly<Record<string, unknown>>, defaults: ReadonlyMap<string, ValueNode>): number | null {
  const a = args?.find((x) => x.name.value === 'limit');
  if (!a) return null;
  let v: unknown = MAX_PAGE;
  if (a.value.kind === Kind.INT) v = Number(a.value.value);
  else if (a.value.kind === Kind.VARIABLE) {
    const name = a.value.name.value;
    const d = defaults.get(name);
    v = name in vars ? vars[name] : d?.kind === Kind.INT ? Number(d.value) : MAX_PAGE;
  }
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(Math.max(Math.trunc(v), 0), MAX_PAGE) : MAX_PAGE;
}

/**
 * What a query can return, counted before it runs: every field counts once per time it can be
 * resolved, and a field with `limit` multiplies its children by that limit, a variable's actual
 * value included (Harness's clients pass `limit` as a variable). The operation that would run is
 * priced (every operation when the name matches none). Returns the cost, or a number over `max`.
 */
export function queryCost(doc: DocumentNode, variables: Readonly<Record<string, unknown>> | undefined, operationName: string | undefined, max: number): number {
  const vars = variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  const ops: OperationDefinitionNode[] = [];
  for (const d of doc.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION) ops.push(d);
  }
  const chosen = ops.filter((o) => operationName === undefined || o.name?.value === operationName);
  let worst = 0;
  for (const op of chosen.length > 0 ? chosen : ops) {
    const defaults = new Map<string, ValueNode>();
    for (const v of op.variableDefinitions ?? []) if (v.defaultValue) defaults.set(v.variable.name.value, v.defaultValue);
    const cost = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let total = 0;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          const n = limitOf(s.arguments, vars, defaults);
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
    worst = Math.max(worst, cost(op.selectionSet, new Set()));
    if (worst > max) return worst;
  }
  return worst;
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
    schema: [baseSchema, apiKeySchema, userGroupSchema, userSchema],
    resolvers: { DateTime, ...merge(apiKeyResolvers, userGroupResolvers, userResolvers) } as never,
    routes: false,
    graphiql: false,
    queryDepth: GRAPHQL_LIMITS.depth,
    graphql: { parseOptions: { maxTokens: GRAPHQL_LIMITS.queryTokens } },
    // Errors are shaped here, as graphql-java does, not by mercurius.
    errorFormatter: (execution) => ({ statusCode: 200, response: execution }),
  });

  documentedResponses(app);
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
      let doc: DocumentNode;
      try {
        doc = parse(body.query, { maxTokens: GRAPHQL_LIMITS.queryTokens });
      } catch (e) {
        const err = e instanceof GraphQLError ? e : new GraphQLError(String(e));
        return reply.status(200).send(specMap([formatGqlError(err, 'InvalidSyntax')], null, false));
      }
      const cost = queryCost(doc, body.variables, body.operationName, GRAPHQL_LIMITS.cost);
      if (cost > GRAPHQL_LIMITS.cost) {
        const c = GRAPHQL_LIMITS.cost;
        const err = new GraphQLError(`Query cost ${cost > c * 10 ? `over ${c * 10}` : cost} exceeds the maximum cost of ${c}`);
        return reply.status(200).send(specMap([formatGqlError(err, 'ValidationError')], null, false));
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
    if (err instanceof UnavailableError) return sendGqlUnavailable(reply, err);
    // A domain refusal before the handler runs (the app-wide NUL rule): a request error, never a 500.
    if (isKeywardError(err)) {
      const refusal = gqlRefusal(err);
      return reply.status(refusal.httpStatus).send(refusal.body);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ errors: [{ message: `Request body is larger than ${GRAPHQL_LIMITS.bodyBytes} bytes`, extensions: { classification: 'ValidationError' } }] });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ errors: [{ message: 'Send the request as application/json, application/graphql or text/plain', extensions: { classification: 'ValidationError' } }] });
    if (typeof err.statusCode === 'number' && err.statusCode < 500) {
      return reply.status(400).send({ errors: [{ message: 'Request body could not be read as JSON', extensions: { classification: 'InvalidSyntax' } }] });
    }
    req.log.error({ err }, 'graphql request failed');
    return reply.status(500).send({ errors: [{ message: 'Internal server error', extensions: { classification: 'ExecutionAborted' } }] });
  });

  for (const path of ['/api/graphql', '/gateway/api/graphql']) {
    app.post(path, { bodyLimit: GRAPHQL_LIMITS.bodyBytes, schema: { tags: ['harness-cg: graphql'], summary: 'Run a GraphQL query or mutation (CG API keys, user groups, users)', ...cgGraphql } }, handler);
  }
}

function merge(...parts: Array<Record<string, Record<string, unknown>>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of parts) for (const [type, fields] of Object.entries(p)) out[type] = { ...out[type], ...fields };
  return out;
}
