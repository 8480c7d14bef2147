/**
 * Route contracts (docs/architecture.md, "Route contracts"): the pieces every protocol uses to declare
 * a route's request and response schemas, and the typed Fastify instance its routes are registered on.
 *
 * - Request parts (params, querystring, headers) are validated by Keyward's Ajv (src/server/validation.ts)
 *   and typed for the handler by json-schema-to-ts (`ContractTypes`): a handler reads
 *   `req.params.identifier`, never `req.params as {...}`.
 * - The wire protocols (Harness NG and CG, ZenML) read their bodies with their own readers, after
 *   authentication and in the original's words (Jackson, Jersey, pydantic). Their body schema is
 *   declared with `wireBody`: it documents the DTO in /openapi.json, Ajv does not enforce it, and the
 *   handler sees `unknown` (the reader decides), so the type never claims what nothing checked.
 * - Their response schemas document the answer; `documentedResponses` keeps Fastify from serializing
 *   through them (fast-json-stringify drops and coerces fields, and the real clients depend on the
 *   exact bytes). test/server/contracts.test.ts checks that real answers agree with the documents.
 *
 * This folder is shared plumbing like protocols/auth: every protocol imports it, it imports no protocol.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyTypeProvider, RawServerDefault } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * The type provider: a request's params, querystring, headers and (validated) body typed from its
 * schema by json-schema-to-ts, as `@fastify/type-provider-json-schema-to-ts` does it. Answers are not typed from the response
 * schema: the native routes' serializer enforces theirs at run time, the wire protocols' renderers
 * write theirs, and test/server/contracts.test.ts checks real answers against every document.
 */
export interface ContractTypes extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}

/** A Fastify instance whose routes get typed requests from their schemas. */
export type ContractApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ContractTypes>;

/** The instance `app` with the type provider: register a protocol's routes on it. */
export const typed = (app: FastifyInstance): ContractApp => app.withTypeProvider<ContractTypes>();

/** The body-schema marker src/server/validation.ts reads: the protocol's own reader validates this body. */
export const WIRE_BODY = 'x-keyward-wire-body';

/** A body schema that documents the DTO; the handler's reader validates it (see above), so its type is unknown. */
export type WireBody = { readonly [WIRE_BODY]: true; readonly __documentedOnly?: never };
export function wireBody(schema: Record<string, unknown>): WireBody {
  return { ...schema, [WIRE_BODY]: true } as unknown as WireBody;
}

/** Path parameters: each a string, all required. */
export function paramsOf<const N extends readonly string[]>(...names: N) {
  const properties = Object.fromEntries(names.map((n) => [n, { type: 'string' }]));
  return { type: 'object', required: names, properties } as unknown as {
    type: 'object';
    required: N;
    properties: { [K in N[number]]: { type: 'string' } };
  };
}

/**
 * A query parameter as the wire protocols read it: a string, or several when repeated (the readers
 * take the first of a single-valued one, as JAX-RS and FastAPI do). It never refuses a request; the
 * protocol's reader does, in its own words.
 */
export const wireValue = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;

/** A querystring of wire parameters (see `wireValue`), with a description for each; others are read as they come (ZenML's filters). */
export function queryOf<const Q extends Record<string, string>>(params: Q) {
  const properties = Object.fromEntries(Object.entries(params).map(([n, description]) => [n, { ...wireValue, description }]));
  return { type: 'object', properties, additionalProperties: wireValue } as unknown as {
    type: 'object';
    properties: { [K in keyof Q]: typeof wireValue };
    additionalProperties: typeof wireValue;
  };
}

/** Response schemas that document only: they are not typed for the handler (the renderer decides the bytes). */
export type DocumentedResponses = Record<number, Record<string, unknown>>;

/**
 * Serializes every answer of the plugin's routes with JSON.stringify, whatever its response schema
 * says: the schema documents the wire shape, the protocol's renderer writes it (see above).
 */
export function documentedResponses(app: FastifyInstance): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

/** One error shape answered with several statuses: the shape per status, with what each status means. */
export function answers(schema: Record<string, unknown>, descriptions: Record<number, string>): DocumentedResponses {
  return Object.fromEntries(Object.entries(descriptions).map(([status, description]) => [status, { ...schema, description }]));
}

// ---- schema pieces the protocols share ----------------------------------------------------------

export const str = { type: 'string' } as const;
export const nullableStr = { type: ['string', 'null'] } as const;
export const int = { type: 'integer' } as const;
export const nullableInt = { type: ['integer', 'null'] } as const;
export const bool = { type: 'boolean' } as const;
/** A string map (tags, labels). */
export const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } } as const;
/** An object whose keys are open (a wire model's map or a model Keyward passes through). */
export const openObject = (description: string) => ({ type: 'object', additionalProperties: true, description }) as const;
export const arrayOf = (items: Record<string, unknown>) => ({ type: 'array', items }) as const;
export const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] }) as const;
export const object = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', properties, ...(required.length > 0 ? { required } : {}) }) as const;
