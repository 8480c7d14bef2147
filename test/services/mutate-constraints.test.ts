/**
 * mutate's backstop (issue 12): a unique or foreign-key violation that a race slipped past a
 * service's own checks is a conflict or a not-found, never an unknown error (a 500), on both
 * databases; the database's error stays its cause. Real violations, made by real inserts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { makeScope } from '../../src/domain/scope.js';
import { mutate } from '../../src/services/audit.js';
import { isUniqueViolation } from '../../src/store/database.js';
import { describeEachDb } from '../helpers/databases.js';
import { openServiceWorld, type ServiceWorld } from '../helpers/services.js';

describeEachDb('mutate: constraint violations from races', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  const meta = () => ({ action: 'test.race', resourceType: 'token', resourceId: 'x', scope: makeScope(w.accountId) });

  it('a unique violation is a ConflictError whose cause is the violation', async () => {
    const row = { key: 'race-test', value: '1', created_at: 0 };
    await w.ts.store.db.insertInto('settings').values(row).execute();
    const p = mutate(w.services.ctx, w.admin, meta(), async (tx) => {
      await tx.insertInto('settings').values(row).execute();
      return { result: null };
    });
    await expect(p).rejects.toBeInstanceOf(ConflictError);
    const e = await p.catch((x: unknown) => x);
    expect(isUniqueViolation(e)).toBe(true);
  });

  it('a foreign-key violation (a parent deleted meanwhile) is a NotFoundError', async () => {
    const p = mutate(w.services.ctx, w.admin, meta(), async (tx) => {
      await tx.insertInto('user_group_members').values({ user_group_id: 'no-such-group', user_id: 'no-such-user', created_at: 0 }).execute();
      return { result: null };
    });
    await expect(p).rejects.toBeInstanceOf(NotFoundError);
  });
});
