/**
 * The hot reads on SQLite (src/store/prepared.ts): the reads asked for in one turn of the event loop run
 * together in one read transaction (one lock taken instead of one per read). Each must still answer its
 * own question, a read must never see a write transaction's uncommitted rows (it waits for it, through
 * Kysely), and a failing read fails alone.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { getApiKeyWithTokenCount, updateApiKey } from '../../src/store/apiKeys.js';
import type { ApiKey } from '../../src/domain/model.js';
import { describeEachDb } from '../helpers/databases.js';
import { DAY, addServiceAccount, openServiceWorld, saOwner, type ServiceWorld } from '../helpers/services.js';

describeEachDb('hot reads of one turn', (kind) => {
  let w: ServiceWorld;
  let keys: ApiKey[];
  beforeEach(async () => {
    w = await openServiceWorld(kind, { limits: { apiKeysPerParent: 50 } });
    const sa = await addServiceAccount(w, 'deployer');
    keys = [];
    for (let i = 0; i < 12; i++) keys.push(await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: `k${i}`, name: `key ${i}`, defaultTimeToExpireToken: DAY }));
    for (let i = 0; i < 3; i++) await w.services.tokens.create(w.admin, saOwner(sa), { identifier: `t${i}`, name: `t${i}`, apiKeyIdentifier: 'k4' });
  });
  afterEach(async () => w.close());

  const read = (k: ApiKey) => getApiKeyWithTokenCount(w.ts.store, { scope: k.scope, type: k.type, parentIdentifier: k.parentIdentifier }, k.identifier);

  it('answers each of many reads asked for at once with its own row, in one transaction on SQLite', async () => {
    const raw = w.ts.store.sqlite;
    const begins: string[] = [];
    const exec = raw?.exec.bind(raw);
    if (raw) raw.exec = (sql: string) => (begins.push(sql), exec!(sql));
    const rows = await Promise.all([...keys, ...keys].map(read));
    if (raw) raw.exec = exec!;
    expect(rows.map((r) => [r?.identifier, r?.name, r?.tokensCount])).toEqual(
      [...keys, ...keys].map((k) => [k.identifier, k.name, k.identifier === 'k4' ? 3 : 0]),
    );
    if (raw) expect(begins).toEqual(['BEGIN', 'COMMIT']);
    // One read alone runs by itself.
    if (raw) raw.exec = (sql: string) => (begins.push(sql), exec!(sql));
    expect((await read(keys[0]!))?.identifier).toBe('k0');
    if (raw) raw.exec = exec!;
    if (raw) expect(begins).toEqual(['BEGIN', 'COMMIT']);
    expect(raw?.inTransaction ?? false).toBe(false);
  });

  it('never sees a write transaction that has not committed: it answers after it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let renamed!: () => void;
    const written = new Promise<void>((r) => (renamed = r));
    const tx = w.ts.store.transaction(async (t) => {
      await updateApiKey(t, { ...keys[1]!, name: 'renamed', updatedAt: keys[1]!.updatedAt + 1 });
      renamed();
      await held;
    });
    await written;
    const during = read(keys[1]!);
    const other = read(keys[2]!);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await tx;
    // SQLite: one connection, so the reads wait for the transaction and see it committed; PostgreSQL's pool
    // reads the committed state at once. Neither sees 'renamed' before it commits.
    const [a, b] = await Promise.all([during, other]);
    expect(b?.name).toBe('key 2');
    expect(a?.name).toBe(kind === 'sqlite' ? 'renamed' : 'key 1');
    expect((await read(keys[1]!))?.name).toBe('renamed');
  });
});
