/**
 * Two Ajv instances: query strings, params and headers are strings on the wire and are coerced;
 * bodies are JSON and are validated strictly, so a wrong JSON type is a 400, never silently fixed.
 */
import Ajv from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';

export function installValidators(app: FastifyInstance): void {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const coercing = new Ajv.default({ ...common, coerceTypes: 'array' });
  const strictBody = new Ajv.default({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictBody : coercing;
    return ajv.compile(schema as object);
  });
}

export type { FastifySchema };
