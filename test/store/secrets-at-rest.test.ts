/**
 * The database never holds a token secret in plain text (docs/architecture.md, house rules): after
 * tokens are issued, rotated and deleted through the services, the raw SQLite file (and its WAL) or
 * every row of every table in the PostgreSQL schema holds each secret's SHA-256 digest and never the
 * secret itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import pg from 'pg';
import { ZENML_PREFIX, digestHex } from '../../src/domain/tokens.js';
import { describeEachDb, pgUrl } from '../helpers/databases.js';
import { addServiceAccount, ngSecretOf, openServiceWorld, saOwner, type ServiceWorld } from '../helpers/services.js';

/** Everything the database holds, as one string. */
async function databaseContents(w: ServiceWorld): Promise<string> {
  if (w.kind === 'sqlite') {
    const file = w.ts.sqliteFile!;
    const parts = [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1'));
    return parts.join('\n');
  }
  const client = new pg.Client({ connectionString: pgUrl()! });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by table_name`,
      [w.ts.pgSchema],
    );
    expect(tables.rows.map((t) => t.table_name)).toContain('tokens');
    const dumps: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`select * from "${w.ts.pgSchema}"."${table_name}"`);
      dumps.push(`${table_name}: ${JSON.stringify(rows.rows)}`);
    }
    return dumps.join('\n');
  } finally {
    await client.end();
  }
}

describeEachDb('secrets at rest', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  it('stores the digest of every issued secret and never the secret', async () => {
    const { services, admin } = w;
    const sa = await addServiceAccount(w, 'deployer');
    const owner = saOwner(sa);
    await services.apiKeys.create(admin, owner, { identifier: 'ng', name: 'ng' });
    const created = await services.tokens.create(admin, owner, { identifier: 'one', name: 'one', apiKeyIdentifier: 'ng', description: 'first' });
    const rotated = await services.tokens.rotate(admin, owner, 'ng', 'one', w.clock.now() + 60_000);
    const doomed = await services.tokens.create(admin, owner, { identifier: 'two', name: 'two', apiKeyIdentifier: 'ng' });
    await services.tokens.delete(admin, owner, 'ng', 'two');

    // A ZenML-flavoured key: its secret is 64 hex characters inside base64 JSON.
    await services.apiKeys.create(admin, owner, { identifier: 'zen', name: 'zen' }, 'zenml');
    const zen = await services.tokens.create(admin, owner, { identifier: 'z', name: 'z', apiKeyIdentifier: 'zen' });
    const zenSecret = (JSON.parse(Buffer.from(zen.secret.slice(ZENML_PREFIX.length), 'base64').toString('utf8')) as { key: string }).key;

    const contents = await databaseContents(w);

    const live = [
      { plain: w.provisioned.token, secret: ngSecretOf(w.provisioned.token) },
      { plain: created.secret, secret: ngSecretOf(created.secret) },
      { plain: rotated.secret, secret: ngSecretOf(rotated.secret) },
      { plain: zen.secret, secret: zenSecret },
    ];
    for (const { plain, secret } of live) {
      expect(contents).toContain(digestHex(secret)); // the check can see what is stored...
      expect(contents).not.toContain(secret); // ...and the secret is not there
      expect(contents).not.toContain(plain);
    }
    // The deleted token's row is gone, and its secret was never written.
    expect(contents).not.toContain(ngSecretOf(doomed.secret));
  });
});
