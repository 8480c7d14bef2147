import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from './helpers/databases.js';
import { startKeyward, type TestKeyward } from './helpers/keyward.js';

describeEachDb('smoke', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  it('verifies the bootstrap token over HTTP', async () => {
    const res = await k.anon.post('/v1/verify', { token: k.admin.token });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(true);
    expect(res.body.principal.id).toBe(k.admin.userId);
  });
});
