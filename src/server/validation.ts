/**
 * Two Ajv instances: query strings, params and headers are strings on the wire and are coerced;
 * bodies are JSON and are validated strictly, so a wrong JSON type is a 400, never silently fixed.
 */
import { SerializerSelector, type SerializerFactory, type Serializer } from '@fastify/fast-json-stringify-compiler';
import Ajv from 'ajv';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { WIRE_BODY } from '../protocols/contract/index.js';

const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
const coercing = new Ajv.default({ ...common, coerceTypes: 'array' });
const strictBody = new Ajv.default({ ...common, coerceTypes: false });
/**
 * Compiled validators, shared by every app this process builds: compiling Keyward's route schemas is most
 * of the cost of building an app (about 0.4 s of Ajv code generation), and a test run builds hundreds.
 * Keyed by the schema's text, so an equal schema built afresh for another app is compiled once. Request
 * schemas carry no `$ref` (no shared schema reaches these Ajv instances), so a validator depends on its
 * text and its part alone; the set of texts is the routes' own, so the map is bounded by the code.
 */
const compiled = new Map<string, ReturnType<typeof coercing.compile>>();

export function keywardValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const readByProtocol = () => true;
  return ({ schema, httpPart }) => {
    // A wire protocol's body is read and checked by the protocol's own reader, after authentication and in
    // the original server's words (protocols/contract/index.ts); its schema documents the DTO only.
    if (httpPart === 'body' && (schema as Record<string, unknown>)[WIRE_BODY] === true) return readByProtocol;
    const body = httpPart === 'body';
    const key = `${body ? 'b' : 'c'}${JSON.stringify(schema)}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = (body ? strictBody : coercing).compile(boundNumbers(schema as object));
      compiled.set(key, validate);
    }
    return validate;
  };
}

/**
 * The one rule for numbers in every route schema (query, params, headers and body): an `integer` or
 * `number` without bounds of its own gets the safe-integer range. A query string coerces
 * `1e309` to Infinity and `99999999999999999999` to 1e20 (and JSON.parse reads `1e400` as
 * Infinity); Ajv's type check lets Infinity through a coerced `integer` and any `number`, and
 * either would reach the store as a value it cannot bind. With the bounds they are a 400 (422 on
 * ZenML) in the protocol's own shape, naming the parameter. Returns a copy; the route's own schema
 * (which also feeds the OpenAPI document) is left as it was.
 */
export function boundNumbers<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => boundNumbers(s)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'const' || k === 'enum' || k === 'examples' ? v : boundNumbers(v);
  const types = [out.type].flat();
  if (types.includes('integer') || types.includes('number')) {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = Number.MAX_SAFE_INTEGER;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -Number.MAX_SAFE_INTEGER;
  }
  return out as T;
}

/**
 * setValidatorCompiler alone is not enough: an encapsulated plugin that calls addSchema rebuilds its
 * compiler from the server's compilersFactory (Fastify's default Ajv, which coerces bodies and strips
 * unknown fields). So buildApp also passes the same compiler as `schemaController.compilersFactory.buildValidator`.
 */
export function installValidators(app: FastifyInstance, compiler: FastifySchemaCompiler<unknown> = keywardValidatorCompiler()): void {
  app.setValidatorCompiler(compiler);
}

export type { FastifySchema };

const serializers = new Map<string, Serializer>();

/**
 * Fastify's own response serializers (fast-json-stringify), likewise compiled once per process rather than
 * once per app: keyed by the route's schema, the shared schemas it may `$ref` and the options, which are
 * everything a serializer is built from.
 */
export function cachingSerializerFactory(): SerializerFactory {
  const build = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
    return (route) => {
      const key = `${context}${JSON.stringify(route.schema)}`;
      let serialize = serializers.get(key);
      if (!serialize) {
        serialize = compile(route);
        serializers.set(key, serialize);
      }
      return serialize;
    };
  };
}
