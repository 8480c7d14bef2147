/** Password hashing: scrypt, salted, constant-time, and a null hash never matches. */
import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword, verifyPassword } from '../../src/domain/passwords.js';

describe('passwords', () => {
  it('hashes with scrypt and a fresh salt, and verifies the right password only', async () => {
    const h1 = await hashPassword('correct horse battery');
    const h2 = await hashPassword('correct horse battery');
    expect(h1).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('correct horse battery');
    expect(await verifyPassword('correct horse battery', h1)).toBe(true);
    expect(await verifyPassword('correct horse battery', h2)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h1)).toBe(false);
    expect(await verifyPassword('', h1)).toBe(false);
  });

  it('never matches a null hash (unknown user or no password set)', async () => {
    expect(await verifyPassword('', null)).toBe(false);
    expect(await verifyPassword('anything at all', null)).toBe(false);
  });

  it('never matches a malformed stored hash', async () => {
    expect(await verifyPassword('password1', 'plain-text-password1')).toBe(false);
    expect(await verifyPassword('password1', 'bcrypt$1$2$3$4$5')).toBe(false);
  });

  it('normalizes to NFKC, so the same text typed differently matches', async () => {
    const h = await hashPassword('\uFB01sh-and-chips'); // the "fi" ligature
    expect(await verifyPassword('fish-and-chips', h)).toBe(true);
  });

  it('wants 8 to 256 characters', () => {
    expect(checkPassword('1234567')).toBe('must be at least 8 characters long');
    expect(checkPassword('12345678')).toBeNull();
    expect(checkPassword('x'.repeat(256))).toBeNull();
    expect(checkPassword('x'.repeat(257))).toBe('must be at most 256 characters long');
    expect(checkPassword(12345678)).toBe('must be a string');
  });
});
