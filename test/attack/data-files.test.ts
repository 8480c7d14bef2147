/**
 * Finding 5 (issue 12): `keyward.db` was created readable by every local user (0644). The folder is
 * now created 0700 and the database, its -wal and its -shm 0600; a file left 0644 by an older
 * Keyward is narrowed on open.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { readOrCreateKeyFile } from '../../src/server/masterKey.js';

const mode = (f: string) => statSync(f).mode & 0o777;

describe('attack: data files are readable by their owner only', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'keyward-modes-'));
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the data folder 0700 and keyward.db, -wal and -shm 0600, whatever the umask', async () => {
    const old = process.umask(0o022);
    try {
      const dir = path.join(root, 'fresh', 'data');
      const store = await openStore({ dataDir: dir });
      await store.migrate();
      await store.db.insertInto('settings').values({ key: 'k', value: 'v', created_at: 1 }).execute();
      const file = path.join(dir, 'keyward.db');
      expect(mode(dir)).toBe(0o700);
      expect(mode(path.join(root, 'fresh'))).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f), f).toBe(0o600);
      readOrCreateKeyFile(path.join(dir, 'master.key'));
      expect(mode(path.join(dir, 'master.key'))).toBe(0o600);
      await store.close();
    } finally {
      process.umask(old);
    }
  });

  it('narrows a database file an older Keyward left readable to others', async () => {
    const file = path.join(root, 'old.db');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const store = await openStore({ sqliteFile: file });
    await store.migrate();
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    await store.close();
  });
});
