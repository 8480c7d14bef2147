/** /healthz (liveness) and /readyz (the database answers), including a database that went away. */
import { afterEach, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

describeEachDb('health and readiness', (kind) => {
  let k: TestKeyward | undefined;
  afterEach(async () => {
    await k?.close();
    k = undefined;
  });

  it('/healthz and /readyz answer 200 without a token', async () => {
    k = await startKeyward(kind);
    const live = await k.anon.get('/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await k.anon.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('/readyz answers 503 once the database is unreachable, while /healthz stays 200', async () => {
    k = await startKeyward(kind);
    expect((await k.anon.get('/readyz')).status).toBe(200);
    await k.keyward.store.close();
    const ready = await k.anon.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', reason: 'database unreachable' });
    expect((await k.anon.get('/healthz')).status).toBe(200);
    // The process is still serving: it answers, it does not hang.
    expect((await k.anon.get('/readyz')).status).toBe(503);
  });
});
