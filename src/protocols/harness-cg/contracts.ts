/**
 * The route contracts of Harness CG (protocols/contract/index.ts): the REST RestResponse envelope
 * `{metaData,resource,responseMessages}` with ApiKeyEntry (restApiKeys.ts, errors.ts `restResponse`,
 * `restBody`), and the GraphQL endpoint's request and response as graphql-java shapes them (graphql.ts).
 */
import { answers, arrayOf, int, nullable, nullableStr, object, openObject, paramsOf, queryOf, str, wireBody, type DocumentedResponses } from '../contract/index.js';

const responseMessage = object({ code: str, level: str, message: str, exception: nullableStr, failureTypes: arrayOf(str) });
const restError = object({ metaData: { type: 'null' }, resource: { type: 'null' }, responseMessages: arrayOf(responseMessage) }, ['responseMessages']);

const apiKeyEntry = object({
  uuid: str,
  accountId: str,
  name: str,
  userGroupIds: arrayOf(str),
  userGroups: arrayOf(object({ uuid: str, accountId: str, name: str, description: nullableStr })),
  createdAt: int,
  decryptedKey: { ...nullableStr, description: 'The key\'s value: on create and on get one, else null' },
  encryptedDataId: { type: 'null' },
});

function restResponses(resource: Record<string, unknown>): DocumentedResponses {
  return {
    200: object({ metaData: object({}), resource, responseMessages: arrayOf(responseMessage) }, ['metaData', 'resource', 'responseMessages']),
    ...answers(restError, {
      400: 'INVALID_REQUEST, INVALID_ARGUMENT',
      401: 'Invalid Api Key',
      403: 'Access denied',
      404: 'No such API key',
      413: 'Request entity too large',
      415: 'Unsupported media type',
      500: 'Internal server error',
      503: 'The database is unavailable (with Retry-After)',
    }),
  };
}

const account = { accountId: 'The account (must be the key\'s)' } as const;
const entryBody = wireBody(object({ name: str, userGroupIds: arrayOf(str) }));

export const cgRest = {
  create: { querystring: queryOf(account), body: entryBody, response: restResponses(apiKeyEntry) },
  update: { params: paramsOf('apiKeyId'), querystring: queryOf(account), body: entryBody, response: restResponses(apiKeyEntry) },
  list: {
    querystring: queryOf({ ...account, offset: 'First item, from 0', limit: 'Page size, up to 1000, or UNLIMITED' }),
    response: restResponses(
      object({ response: arrayOf(apiKeyEntry), total: int, offset: { ...str, description: 'The offset, as a string' }, limit: str, start: int, pageSize: int, empty: { type: 'boolean' } }),
    ),
  },
  get: { params: paramsOf('apiKeyId'), querystring: queryOf(account), response: restResponses(apiKeyEntry) },
  delete: { params: paramsOf('apiKeyId'), querystring: queryOf(account), response: restResponses({ type: 'null' }) },
  deleteAll: { querystring: queryOf(account), response: restResponses({ type: 'null' }) },
};

// ---- GraphQL ------------------------------------------------------------------------------------

const gqlError = object(
  {
    message: str,
    locations: arrayOf(object({ line: int, column: int })),
    path: arrayOf({ type: ['string', 'integer'] }),
    extensions: object({ classification: str, code: str }),
  },
  ['message'],
);
const gqlErrors = object({ errors: arrayOf(gqlError) }, ['errors']);

export const cgGraphql = {
  querystring: queryOf(account),
  body: wireBody({
    description: 'A GraphQL request: JSON `{query, variables, operationName}`, or the query itself as application/graphql or text/plain',
    anyOf: [object({ query: str, variables: nullable(openObject('Variables, or their JSON text')), operationName: nullableStr }, ['query']), str],
  }),
  response: {
    200: { ...object({ data: nullable(openObject('The query\'s result')), errors: arrayOf(gqlError) }), description: 'Executed, or refused by the parser or validator (errors only)' },
    ...answers(gqlErrors, {
      400: 'The body is not a GraphQL request',
      401: 'Invalid Api Key',
      403: 'Refused before execution',
      413: 'Body or query too large',
      415: 'Unsupported media type',
      500: 'Internal server error',
      503: 'The database is unavailable (with Retry-After)',
    }),
  } satisfies DocumentedResponses,
};
