/** Field rules of Harness NextGen (docs/compat/harness-ng.md), in the spec's own words. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/domain/errors.js';
import {
  checkDescription,
  checkIdentifier,
  checkName,
  checkOptionalIdentifier,
  checkTags,
  normalizeTags,
  validate,
} from '../../src/domain/validation.js';

const IDENTIFIER_PATTERN_MESSAGE =
  'can be 128 characters long and can only contain alphanumeric, underscore and $ characters, and not start with a number or $';

describe('identifier rule', () => {
  it.each(['a', 'A', '_', 'sa1', 'my_key', 'key$1', '_$', 'Z'.repeat(128), `a${'1'.repeat(127)}`])('accepts %s', (id) => {
    expect(checkIdentifier(id)).toBeNull();
  });

  it.each([undefined, null, '', '   '])('says "cannot be empty" for %j', (id) => {
    expect(checkIdentifier(id)).toBe('cannot be empty');
  });

  it.each([
    ['starting with a digit', '1abc'],
    ['starting with $', '$abc'],
    ['with a hyphen', 'my-key'],
    ['with a dot', 'my.key'],
    ['with a space', 'my key'],
    ['with a non-ASCII letter', 'clé'],
    ['of 129 characters', 'a'.repeat(129)],
  ])('rejects one %s with the pattern message', (_what, id) => {
    expect(checkIdentifier(id)).toBe(IDENTIFIER_PATTERN_MESSAGE);
  });

  it.each([
    'or', 'and', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'div', 'mod', 'not', 'null', 'true', 'false',
    'new', 'var', 'return', 'step', 'parallel', 'stepGroup', 'org', 'account', 'class', 'shellScriptProvisioner',
  ])('rejects the reserved word %s', (word) => {
    expect(checkIdentifier(word)).toBe(`${word} is a keyword, so cannot be used`);
  });

  it('matches reserved words exactly: other cases and longer words are fine', () => {
    expect(checkIdentifier('Org')).toBeNull();
    expect(checkIdentifier('stepgroup')).toBeNull();
    expect(checkIdentifier('orgs')).toBeNull();
    expect(checkIdentifier('accounts')).toBeNull();
  });

  it('rejects a non-string', () => {
    expect(checkIdentifier(12)).toBe('must be a string');
  });

  it('lets org and project identifiers be blank, but not malformed', () => {
    expect(checkOptionalIdentifier('')).toBeNull();
    expect(checkOptionalIdentifier(null)).toBeNull();
    expect(checkOptionalIdentifier('proj1')).toBeNull();
    expect(checkOptionalIdentifier('1proj')).toBe(IDENTIFIER_PATTERN_MESSAGE);
  });
});

describe('name rule', () => {
  it.each(['a', 'My key', 'ci/cd-key_1.0', 'A-Z a-z 0-9 . - _ /', 'n'.repeat(128)])('accepts %j', (name) => {
    expect(checkName(name)).toBeNull();
  });

  it.each([undefined, null, '', '  '])('says "cannot be empty." for %j', (name) => {
    expect(checkName(name)).toBe('cannot be empty.');
  });

  it('rejects 129 characters', () => {
    expect(checkName('n'.repeat(129))).toBe('cannot be more than 128 characters long.');
  });

  it.each(['key!', 'a@b', 'tab\there', 'naïve', 'semi;colon', 'quote"'])('rejects %j for its characters', (name) => {
    expect(checkName(name)).toBe('can only contain alphanumeric, dot, hyphen, forward slash and underscore characters.');
  });
});

describe('description and tags', () => {
  it('allows a description of up to 1024 characters', () => {
    expect(checkDescription(undefined)).toBeNull();
    expect(checkDescription('')).toBeNull();
    expect(checkDescription('d'.repeat(1024))).toBeNull();
    expect(checkDescription('d'.repeat(1025))).toBe('size must be between 0 and 1024');
  });

  it('allows up to 128 tags', () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));
    expect(checkTags(undefined)).toBeNull();
    expect(checkTags({})).toBeNull();
    expect(checkTags(tags(128))).toBeNull();
    expect(checkTags(tags(129))).toBe('size must be between 0 and 128');
  });

  it('wants tags as an object of strings', () => {
    expect(checkTags(['a'])).toBe('must be an object of string keys and values');
    expect(checkTags('a=b')).toBe('must be an object of string keys and values');
    expect(checkTags({ a: 1 })).toBe('tag value of [a] must be a string');
    expect(checkTags({ a: null })).toBeNull();
  });

  it('normalizes missing tags to {} and null values to ""', () => {
    expect(normalizeTags(null)).toEqual({});
    expect(normalizeTags({ a: null, b: 'x' })).toEqual({ a: '', b: 'x' });
  });
});

describe('validate', () => {
  it('names every violated field in one InvalidArgumentError', () => {
    let err: unknown;
    try {
      validate([
        ['identifier', checkIdentifier('')],
        ['name', checkName('ok')],
        ['description', checkDescription('d'.repeat(1025))],
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const e = err as InvalidArgumentError;
    expect(e.message).toBe('identifier: cannot be empty, description: size must be between 0 and 1024');
    expect(e.violations).toEqual([
      { field: 'identifier', message: 'cannot be empty' },
      { field: 'description', message: 'size must be between 0 and 1024' },
    ]);
  });

  it('passes when nothing is violated', () => {
    expect(() => validate([['identifier', checkIdentifier('fine')]])).not.toThrow();
  });
});
