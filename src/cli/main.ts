#!/usr/bin/env node
/** The `keyward` command. */
import { Command, InvalidArgumentError as CommanderArgError } from 'commander';
import { isKeywardError } from '../domain/errors.js';
import { openStore } from '../store/database.js';
import { createServices } from '../services/index.js';
import { provisionAccount } from '../services/provisioning.js';
import { SYSTEM_CALLER } from '../services/context.js';
import { loadConfig, type Config } from '../server/config.js';
import { createKeyward } from '../server/keyward.js';
import { systemClock } from '../domain/clock.js';
import { VERSION } from '../version.js';
import { lazyKeyring } from '../server/masterKey.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderArgError('must be a port number (0-65535)');
  return n;
}

interface DbFlags {
  dataDir?: string;
  databaseUrl?: string;
}

function withDbFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'folder of the SQLite database (env KEYWARD_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL connection string; SQLite when absent (env KEYWARD_DATABASE_URL)');
}

function configFrom(flags: DbFlags & { port?: number; host?: string; logLevel?: string }): Config {
  return loadConfig(process.env, { dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, port: flags.port, host: flags.host, logLevel: flags.logLevel });
}

async function withServices<T>(flags: DbFlags, fn: (s: ReturnType<typeof createServices>) => Promise<T>): Promise<T> {
  const config = configFrom(flags);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    return await fn(
      createServices({
        store,
        clock: systemClock,
        keyring: lazyKeyring({ masterKey: config.masterKey, masterKeyPrevious: config.masterKeyPrevious, dataDir: config.dataDir }),
      }),
    );
  } finally {
    await store.close();
  }
}

const program = new Command();
program.name('keyward').description('Keyward: API keys and access tokens, issued, managed and verified.').version(VERSION, '-v, --version');

withDbFlags(
  program
    .command('serve')
    .description('start the Keyward server (runs migrations; bootstraps an empty database)')
    .option('-p, --port <port>', 'port to listen on (env KEYWARD_PORT, default 8080)', port)
    .option('-H, --host <host>', 'address to bind (env KEYWARD_HOST, default 127.0.0.1)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env KEYWARD_LOG_LEVEL, default info)'),
).action(async (flags: DbFlags & { port?: number; host?: string; logLevel?: string }) => {
  const keyward = await createKeyward({ config: configFrom(flags) });
  const address = await keyward.listen();
  keyward.app.log.info({ address, database: keyward.store.dialect }, 'keyward listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    keyward.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    keyward.close().then(
      () => process.exit(0),
      (e: unknown) => {
        keyward.app.log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
});

withDbFlags(program.command('migrate').description('run database migrations and exit')).action(async (flags: DbFlags) => {
  const config = configFrom(flags);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const ran = await store.migrate();
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await store.close();
  }
});

program
  .command('verify <token>')
  .description(
    'verify a token against a running Keyward (POST /v1/verify); exits 0 when valid, 1 when not, 2 when the server cannot answer. ' +
      'Give - as the token to read it from standard input, which keeps it out of the process list and the shell history',
  )
  .option('-u, --url <url>', 'Keyward base URL (env KEYWARD_URL)', process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080')
  .action(async (tokenArg: string, flags: { url: string }) => {
    const token = tokenArg === '-' ? (await readStdin()).trim() : tokenArg;
    let endpoint: URL;
    try {
      endpoint = new URL('/v1/verify', flags.url);
    } catch {
      throw new CliError(`--url ${JSON.stringify(flags.url)} is not a URL (for example http://127.0.0.1:8080)`);
    }
    let res: Response;
    try {
      res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Keyward at ${endpoint.origin} (${cause?.code ?? cause?.message ?? (e as Error).message}); is it running? Set --url or KEYWARD_URL`);
    }
    const text = await res.text();
    let body: { valid?: boolean };
    try {
      body = JSON.parse(text) as { valid?: boolean };
    } catch {
      throw new CliError(`${endpoint.origin} answered ${res.status} with something that is not Keyward's JSON; is --url right?`);
    }
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    process.exitCode = res.ok && body.valid ? 0 : 1;
  });

/** A failure the user can act on: printed as one line, exit code 2. */
class CliError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const account = program.command('account').description('manage accounts (operators, directly on the database)');
withDbFlags(
  account
    .command('create')
    .description('create an account with its first admin; prints the admin token once')
    .requiredOption('--name <name>', 'account name')
    .requiredOption('--admin-email <email>', 'email of the first admin user')
    .option('--admin-name <name>', 'name of the first admin user')
    .option('--admin-password <password>', 'password of the first admin (env KEYWARD_ADMIN_PASSWORD is safer than a flag)')
    .option('--id <id>', 'account id (default: a fresh 22-character id)'),
).action(async (flags: DbFlags & { name: string; adminEmail: string; adminName?: string; adminPassword?: string; id?: string }) => {
  await withServices(flags, async (s) => {
    const p = await provisionAccount(s.ctx, SYSTEM_CALLER, {
      accountId: flags.id ?? null,
      accountName: flags.name,
      adminEmail: flags.adminEmail,
      adminName: flags.adminName ?? null,
      adminPassword: flags.adminPassword ?? process.env.KEYWARD_ADMIN_PASSWORD ?? null,
    });
    process.stdout.write(`${JSON.stringify({ accountId: p.account.id, adminUserId: p.admin.id, token: p.token }, null, 2)}\n`);
    process.stderr.write('The token above is shown once; store it now.\n');
  });
});

const user = program.command('user').description('manage users (operators, directly on the database)');
withDbFlags(
  user
    .command('create')
    .description('create a user in an account')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--email <email>', 'email')
    .option('--name <name>', 'display name')
    .option('--password <password>', 'password (env KEYWARD_USER_PASSWORD is safer than a flag)')
    .option('--operator', 'make the user a system operator (may create accounts)'),
).action(async (flags: DbFlags & { account: string; email: string; name?: string; password?: string; operator?: boolean }) => {
  await withServices(flags, async (s) => {
    const u = await s.users.create(SYSTEM_CALLER, flags.account, {
      email: flags.email,
      name: flags.name ?? null,
      password: flags.password ?? process.env.KEYWARD_USER_PASSWORD ?? null,
      isOperator: flags.operator ?? false,
    });
    process.stdout.write(`${JSON.stringify(u, null, 2)}\n`);
  });
});

const sessionSecret = program.command('session-secret').description('the secret that signs ZenML and console sessions (sealed under the master key)');
withDbFlags(
  sessionSecret
    .command('rotate')
    .description('replace the session-signing secret: every ZenML and console session ends (on running nodes within 5 seconds); tokens and API keys are unaffected'),
).action(async (flags: DbFlags) => {
  await withServices(flags, async (s) => {
    await s.sessions.rotateSecret();
    process.stdout.write('session-signing secret replaced; every ZenML and console session has ended\n');
  });
});

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isKeywardError(e) || e instanceof CliError) {
    process.stderr.write(`keyward: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`keyward: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
