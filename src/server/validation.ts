/**
 * Two Ajv instances: query strings, params and headers are strings on the wire and are coerced;
 * bodies are JSON and are validated strictly, so a wrong JSON type is a 400, never silently fixed.
 */
import Ajv from 'ajv';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';

export function keywardValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const coercing = new Ajv.default({ ...common, coerceTypes: 'array' });
  const strictBody = new Ajv.default({ ...common, coerceTypes: false });
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictBody : coercing;
    return ajv.compile(schema as object);
  };
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
