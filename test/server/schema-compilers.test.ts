/**
 * Route schemas are compiled once per process (src/server/validation.ts): building an app was mostly Ajv
 * and fast-json-stringify code generation, and every test builds one. Sharing must not blur what differs:
 * a body is validated strictly while the same schema on a query string coerces, and a serializer built
 * against other shared schemas is another serializer.
 */
import { describe, expect, it } from 'vitest';
import { cachingSerializerFactory, keywardValidatorCompiler } from '../../src/server/validation.js';

const route = { method: 'GET', url: '/x' };
type Validate = ((data: unknown) => boolean) & { errors?: unknown };

describe('schema compilers shared across apps', () => {
  it('two apps get the same validator for the same schema, even a copy built afresh', () => {
    const a = keywardValidatorCompiler();
    const b = keywardValidatorCompiler();
    const schema = () => ({ type: 'object', properties: { n: { type: 'integer' } } });
    const first = a({ schema: schema(), httpPart: 'querystring', ...route });
    expect(b({ schema: schema(), httpPart: 'querystring', ...route })).toBe(first);
    expect(b({ schema: { type: 'object', properties: { n: { type: 'string' } } }, httpPart: 'querystring', ...route })).not.toBe(first);
  });

  it('keeps bodies strict and query strings coercing for one schema text', () => {
    const compile = keywardValidatorCompiler();
    const schema = { type: 'object', properties: { n: { type: 'integer' } } };
    const query = compile({ schema, httpPart: 'querystring', ...route }) as Validate;
    const body = compile({ schema, httpPart: 'body', ...route }) as Validate;
    expect(body).not.toBe(query);
    const q = { n: '7' };
    expect(query(q)).toBe(true);
    expect(q.n).toBe(7);
    expect(body({ n: '7' })).toBe(false);
    expect(body({ n: 1e300 })).toBe(false); // boundNumbers still applies to the shared copy
  });

  it('shares a serializer only when the shared schemas it may $ref are the same', () => {
    const factory = cachingSerializerFactory();
    const schema = { type: 'object', properties: { s: { $ref: 'Shared#' } } };
    const external = (props: object) => ({ Shared: { $id: 'Shared', type: 'object', properties: props } });
    const one = factory(external({ a: { type: 'string' } }), {})({ schema, httpStatus: '200', ...route });
    const again = factory(external({ a: { type: 'string' } }), {})({ schema, httpStatus: '200', ...route });
    const other = factory(external({ b: { type: 'string' } }), {})({ schema, httpStatus: '200', ...route });
    expect(again).toBe(one);
    expect(other).not.toBe(one);
    expect(one({ s: { a: 'x', b: 'y' } })).toBe('{"s":{"a":"x"}}');
    expect(other({ s: { a: 'x', b: 'y' } })).toBe('{"s":{"b":"y"}}');
  });
});
