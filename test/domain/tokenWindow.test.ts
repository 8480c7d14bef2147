/** The token validity window: one rule (src/domain/model.ts) for verification, Harness NG's `valid` and the console's state. */
import { describe, expect, it } from 'vitest';
import { EXPIRING_SOON_MS, tokenIsValid, tokenState, tokenWindowState } from '../../src/domain/model.js';

const DAY = 24 * 60 * 60 * 1000;

describe('token validity window', () => {
  const t = { validFrom: 1000, validTo: 1000 + 30 * DAY, scheduledExpireTime: null };

  it('is valid from validFrom (inclusive) until validTo (exclusive)', () => {
    expect(tokenWindowState(t, 999)).toBe('not_yet_valid');
    expect(tokenWindowState(t, 1000)).toBe('valid');
    expect(tokenWindowState(t, t.validTo - 1)).toBe('valid');
    expect(tokenWindowState(t, t.validTo)).toBe('expired');
    expect(tokenWindowState({ ...t, validTo: null }, 10 ** 15)).toBe('valid');
  });

  it('names a rotated-out token before an expired one', () => {
    const rotated = { ...t, scheduledExpireTime: 2000 };
    expect(tokenWindowState(rotated, 1999)).toBe('valid');
    expect(tokenWindowState(rotated, 2000)).toBe('rotated_out');
    expect(tokenWindowState(rotated, t.validTo + 1)).toBe('rotated_out');
  });

  it('ends at validTo even when a rotation scheduled a later expiry (verification, NG and the console agree)', () => {
    const late = { validFrom: 0, validTo: 100, scheduledExpireTime: 200 };
    expect(tokenWindowState(late, 150)).toBe('expired');
    expect(tokenIsValid(late, 150)).toBe(false);
    expect(tokenState(late, 150)).toBe('expired');
  });

  it('gives the console state: expiring soon while rotated out or near validTo', () => {
    expect(tokenState(t, 1000)).toBe('active');
    expect(tokenState(t, t.validTo - EXPIRING_SOON_MS)).toBe('expiring_soon');
    expect(tokenState({ ...t, scheduledExpireTime: 5000 }, 1000)).toBe('expiring_soon');
    expect(tokenState({ ...t, scheduledExpireTime: 5000 }, 5000)).toBe('rotated_out');
    expect(tokenState(t, 0)).toBe('not_yet_valid');
    expect(tokenState(t, t.validTo)).toBe('expired');
  });
});
