/**
 * Migrations, in code so that they ship inside the package. Kysely's migrator records what ran and
 * takes a lock, so running them twice, or from two nodes at once, is safe.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const text = 'text' as const;
const ms = 'bigint' as const;
const int = 'integer' as const;

const m0001: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('organizations')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addUniqueConstraint('organizations_scope_identifier', ['account_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('projects')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull())
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('color', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addUniqueConstraint('projects_scope_identifier', ['account_id', 'org_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('email', text, (c) => c.notNull())
      .addColumn('email_lower', text, (c) => c.notNull().unique())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('password_hash', text)
      .addColumn('active', int, (c) => c.notNull().defaultTo(1))
      .addColumn('is_operator', int, (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('users_account').on('users').columns(['account_id', 'created_at']).execute();

    await db.schema
      .createTable('service_accounts')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('email', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('active', int, (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      // Harness: unique (account, org, project, identifier), case-sensitive.
      .addUniqueConstraint('service_accounts_scope_identifier', ['account_id', 'org_id', 'project_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('roles')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('permissions', text, (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addUniqueConstraint('roles_scope_identifier', ['account_id', 'org_id', 'project_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('user_groups')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addUniqueConstraint('user_groups_scope_identifier', ['account_id', 'org_id', 'project_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('user_group_members')
      .addColumn('user_group_id', text, (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
      .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('user_group_members_pk', ['user_group_id', 'user_id'])
      .execute();
    await db.schema.createIndex('user_group_members_user').on('user_group_members').column('user_id').execute();

    await db.schema
      .createTable('role_assignments')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('role_identifier', text, (c) => c.notNull())
      .addColumn('resource_group_identifier', text, (c) => c.notNull())
      .addColumn('principal_type', text, (c) => c.notNull())
      .addColumn('principal_id', text, (c) => c.notNull())
      .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
      .addColumn('managed', int, (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addUniqueConstraint('role_assignments_scope_identifier', ['account_id', 'org_id', 'project_id', 'identifier'])
      .addUniqueConstraint('role_assignments_unique_grant', [
        'account_id', 'org_id', 'project_id', 'role_identifier', 'resource_group_identifier', 'principal_type', 'principal_id',
      ])
      .execute();
    await db.schema.createIndex('role_assignments_principal').on('role_assignments').columns(['principal_id', 'principal_type']).execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('api_key_type', text, (c) => c.notNull())
      .addColumn('parent_identifier', text, (c) => c.notNull())
      .addColumn('user_id', text, (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('service_account_id', text, (c) => c.references('service_accounts.id').onDelete('cascade'))
      .addColumn('default_ttl_ms', ms, (c) => c.notNull())
      .addColumn('active', int, (c) => c.notNull().defaultTo(1))
      .addColumn('flavor', text, (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addCheckConstraint('api_keys_one_parent', sql`(user_id is null) <> (service_account_id is null)`)
      .execute();
    // Harness: unique (account, org, project, identifier, parentIdentifier, apiKeyType), case-insensitive.
    await sql`create unique index api_keys_unique_identifier on api_keys
      (account_id, org_id, project_id, lower(identifier), parent_identifier, api_key_type)`.execute(db);
    await db.schema.createIndex('api_keys_user').on('api_keys').column('user_id').execute();
    await db.schema.createIndex('api_keys_service_account').on('api_keys').column('service_account_id').execute();

    await db.schema
      .createTable('tokens')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('api_key_id', text, (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
      .addColumn('account_id', text, (c) => c.notNull())
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('identifier', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('tags', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('api_key_type', text, (c) => c.notNull())
      .addColumn('parent_identifier', text, (c) => c.notNull())
      .addColumn('api_key_identifier', text, (c) => c.notNull())
      .addColumn('format', text, (c) => c.notNull())
      .addColumn('secret_digest', text, (c) => c.notNull().unique())
      .addColumn('valid_from', ms, (c) => c.notNull())
      .addColumn('valid_to', ms)
      .addColumn('scheduled_expire_at', ms)
      .addColumn('rotated_at', ms)
      .addColumn('encrypted_value', text)
      .addColumn('last_used_at', ms)
      .addColumn('last_used_ip', text)
      .addColumn('last_used_user_agent', text)
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();
    // Harness: unique (account, org, project, identifier, apiKeyType, parentIdentifier, apiKeyIdentifier), case-insensitive.
    await sql`create unique index tokens_unique_identifier on tokens
      (account_id, org_id, project_id, lower(identifier), api_key_type, parent_identifier, lower(api_key_identifier))`.execute(db);
    await db.schema.createIndex('tokens_api_key').on('tokens').columns(['api_key_id', 'created_at']).execute();

    // Deleted tokens leave a tombstone, so verification can answer "deleted" rather than "unknown".
    await db.schema
      .createTable('token_tombstones')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('api_key_id', text, (c) => c.notNull())
      .addColumn('deleted_at', ms, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('token_tombstones_api_key').on('token_tombstones').column('api_key_id').execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull())
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('at', ms, (c) => c.notNull())
      .addColumn('actor_type', text, (c) => c.notNull())
      .addColumn('actor_id', text, (c) => c.notNull())
      .addColumn('action', text, (c) => c.notNull())
      .addColumn('resource_type', text, (c) => c.notNull())
      .addColumn('resource_id', text, (c) => c.notNull())
      .addColumn('outcome', text, (c) => c.notNull())
      .addColumn('details', text, (c) => c.notNull().defaultTo('{}'))
      .addColumn('request_id', text)
      .execute();
    await db.schema.createIndex('audit_events_account_at').on('audit_events').columns(['account_id', 'at', 'id']).execute();
    await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['account_id', 'actor_id', 'at']).execute();
    await db.schema.createIndex('audit_events_resource').on('audit_events').columns(['account_id', 'resource_id', 'at']).execute();

    await db.schema
      .createTable('settings')
      .addColumn('key', text, (c) => c.primaryKey())
      .addColumn('value', text, (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .execute();
  },
};

/** Fields Harness's organization, project and role-assignment resources carry. */
const m0002: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('projects').addColumn('modules', text, (c) => c.notNull().defaultTo('[]')).execute();
    await db.schema.alterTable('role_assignments').addColumn('principal_scope_level', text).execute();
    await db.schema.alterTable('role_assignments').addColumn('role_scope_level', text).execute();
  },
};

/**
 * ZenML: names unique among an account's service accounts and among a service account's keys (a
 * column set only for entities named through ZenML, so Harness's non-unique names are unaffected),
 * and a key's retain period, last rotation and last login.
 */
const m0003zenml: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('service_accounts').addColumn('unique_name', text).execute();
    await db.schema.createIndex('service_accounts_unique_name').unique().on('service_accounts').columns(['account_id', 'unique_name']).execute();
    await db.schema.alterTable('api_keys').addColumn('unique_name', text).execute();
    await db.schema.createIndex('api_keys_unique_name').unique().on('api_keys').columns(['service_account_id', 'unique_name']).execute();
    await db.schema.alterTable('api_keys').addColumn('retain_period_minutes', int, (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('api_keys').addColumn('last_rotated_at', ms).execute();
    await db.schema.alterTable('api_keys').addColumn('last_login_at', ms).execute();
  },
};

/**
 * Token lists (Harness NG `GET /token/aggregate`, newest first) read a page in index order instead
 * of scanning and sorting every token of the account: a key's tokens, a parent's tokens, and a
 * scope's tokens of a type. Measured in bench/management.ts with 1,000,000 tokens.
 */
const m0004tokenLists: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index tokens_list_by_key on tokens
      (account_id, org_id, project_id, api_key_type, parent_identifier, api_key_identifier, updated_at desc, id)`.execute(db);
    await sql`create index tokens_list_by_parent on tokens
      (account_id, org_id, project_id, api_key_type, parent_identifier, updated_at desc, id)`.execute(db);
    await sql`create index tokens_list_by_scope on tokens
      (account_id, org_id, project_id, api_key_type, updated_at desc, id)`.execute(db);
  },
};

/**
 * Console sessions: one row per sign-in, so that signing out ends the session on every node (the
 * cookie's JWT alone could not be taken back). The JWT carries the row's id; the row says whether
 * it has ended.
 */
const m0006console: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('console_sessions')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_id', text)
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('expires_at', ms, (c) => c.notNull())
      .addColumn('ended_at', ms)
      .execute();
    await db.schema.createIndex('console_sessions_expiry').on('console_sessions').columns(['expires_at']).execute();
  },
};

/**
 * Harness CG API keys (docs/compat/harness-cg.md): account-level keys with no parent principal,
 * looked up by the SHA-256 digest of the whole key, sealed for the CG REST GET, named uniquely per
 * account; their user groups give them their permissions. Kept apart from api_keys/tokens, whose
 * rows always have a user or service-account parent (api_keys_one_parent).
 */
const m0005harnessCg: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('cg_api_keys')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('secret_digest', text, (c) => c.notNull().unique())
      .addColumn('encrypted_value', text, (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      // Harness: index uniqueName(accountId, name).
      .addUniqueConstraint('cg_api_keys_account_name', ['account_id', 'name'])
      .execute();
    await db.schema.createIndex('cg_api_keys_account_created').on('cg_api_keys').columns(['account_id', 'created_at', 'id']).execute();

    await db.schema
      .createTable('cg_api_key_user_groups')
      .addColumn('api_key_id', text, (c) => c.notNull().references('cg_api_keys.id').onDelete('cascade'))
      .addColumn('user_group_id', text, (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
      .addColumn('position', int, (c) => c.notNull())
      .addPrimaryKeyConstraint('cg_api_key_user_groups_pk', ['api_key_id', 'user_group_id'])
      .execute();
    await db.schema.createIndex('cg_api_key_user_groups_group').on('cg_api_key_user_groups').column('user_group_id').execute();
  },
};

/**
 * A parent's keys (Harness NG `GET /apikey`, `/apikey/aggregate/{id}`) were found through the unique
 * index, whose fourth column is lower(identifier): only its scope prefix applied, so every read
 * scanned all of a scope's keys. This index serves the parent's list and a key by identifier.
 */
const m0007apiKeyParents: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index api_keys_by_parent on api_keys
      (account_id, org_id, project_id, api_key_type, parent_identifier, identifier)`.execute(db);
  },
};

/**
 * Emails are unique per account, not across accounts: a global unique index let one tenant's admin
 * learn whether an address exists in another tenant (a 409 on create). Sign-in by email resolves
 * the account from the password (services/users.ts, docs/security.md). PostgreSQL drops the
 * column's unique constraint; SQLite cannot drop a column constraint, so the table is rebuilt
 * (foreign keys off for the swap, as SQLite's ALTER TABLE procedure prescribes; rows and ids kept).
 */
const m0008emailPerAccount: Migration = {
  async up(db: Kysely<any>) {
    const sqlite = !db.getExecutor().adapter.supportsTransactionalDdl;
    if (!sqlite) {
      await sql`alter table users drop constraint if exists users_email_lower_key`.execute(db);
    } else {
      await sql`pragma foreign_keys = off`.execute(db);
      try {
        await sql`begin immediate`.execute(db);
        try {
          await sql`create table users_0008 (
            id text primary key,
            account_id text not null references accounts(id) on delete cascade,
            email text not null,
            email_lower text not null,
            name text not null,
            password_hash text,
            active integer not null default 1,
            is_operator integer not null default 0,
            created_at bigint not null,
            updated_at bigint not null)`.execute(db);
          await sql`insert into users_0008 (id, account_id, email, email_lower, name, password_hash, active, is_operator, created_at, updated_at)
            select id, account_id, email, email_lower, name, password_hash, active, is_operator, created_at, updated_at from users`.execute(db);
          await sql`drop table users`.execute(db);
          await sql`alter table users_0008 rename to users`.execute(db);
          await sql`create index users_account on users (account_id, created_at)`.execute(db);
          const broken = await sql`pragma foreign_key_check`.execute(db);
          if (broken.rows.length > 0) throw new Error(`migration 0008: ${broken.rows.length} foreign keys broken by the users table rebuild`);
          await sql`commit`.execute(db);
        } catch (e) {
          await sql`rollback`.execute(db);
          throw e;
        }
      } finally {
        await sql`pragma foreign_keys = on`.execute(db);
      }
    }
    await db.schema.createIndex('users_account_email').unique().on('users').columns(['account_id', 'email_lower']).execute();
    await db.schema.createIndex('users_email').on('users').column('email_lower').execute();
  },
};

/**
 * Verifications per token, hour and outcome (src/services/usage.ts counts them in memory and adds
 * them here with the batched last-used data). No foreign key: a batch may name a token deleted
 * since, and must not fail for it; rows older than the longest view (30 days) are pruned.
 */
const m0009tokenUsageHourly: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('token_usage_hourly')
      .addColumn('token_id', text, (c) => c.notNull())
      .addColumn('hour', ms, (c) => c.notNull())
      .addColumn('outcome', text, (c) => c.notNull())
      .addColumn('count', int, (c) => c.notNull())
      .addPrimaryKeyConstraint('token_usage_hourly_pk', ['token_id', 'hour', 'outcome'])
      .execute();
    await db.schema.createIndex('token_usage_hourly_hour').on('token_usage_hourly').column('hour').execute();
  },
};

/**
 * Harness CG user groups carry notification settings, an SSO link and CG permissions
 * (harness-core userGroup.graphql, permissions.graphql); stored as JSON so that they read back.
 */
const m0010cgUserGroups: Migration = {
  async up(db: Kysely<any>) {
    for (const column of ['cg_notification_settings', 'cg_sso_setting', 'cg_permissions']) {
      await db.schema.alterTable('user_groups').addColumn(column, text).execute();
    }
  },
};

/** The columns a token list filters on, in the order of token_counts' primary key. */
const COUNT_KEY = 'account_id, org_id, project_id, api_key_type, parent_identifier, api_key_identifier';
/** A token's three counter rows: its scope and type (''/''), its parent (p/''), its key (p/k). */
const countRowsOf = (r: string) => `
      select ${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, '' as parent_identifier, '' as api_key_identifier from ${r}
      union all select ${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, ${r}.parent_identifier, '' from ${r}
      union all select ${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, ${r}.parent_identifier, ${r}.api_key_identifier from ${r}`;

/**
 * Token counts kept as tokens come and go, so that a list's total (Harness NG `totalItems`, ZenML
 * `total`, native `total`) is one row read instead of a `count(*)` over up to every token of the
 * account (0.4 to 0.7 s at 1,000,000 tokens, bench/management.ts). One row per scope and key type
 * (parent and key identifier ''), per parent (key identifier ''), and per key (identifiers are
 * never empty: src/domain/validation.ts), counting exactly the rows `store/tokens.ts listTokens`
 * filters on. Kept by triggers on `tokens`, so every insert and delete counts, cascades included
 * (deleting a key, service account, user or account), in the statement's own transaction:
 * - PostgreSQL: statement triggers over the transition table, one `insert ... on conflict do update
 *   set n = n + excluded.n` per statement (atomic under concurrency, rows locked in key order, the
 *   scope row first; a row trigger would update a hot row once per token, and a long chain of row
 *   versions inside one bulk statement makes that quadratic);
 * - SQLite: row triggers (one writer at a time; updates in place).
 * Rows that fall to zero are removed. The counted columns of a token never change after insert
 * (no code updates them), so no update trigger. The migration counts the tokens already there.
 *
 * Also indexes for the lists sorted by creation, newest first (the native token list and the
 * console), at the same three levels as migration 0004's updated_at indexes.
 */
const m0011tokenCounts: Migration = {
  async up(db: Kysely<any>) {
    const sqlite = !db.getExecutor().adapter.supportsTransactionalDdl;
    await sql.raw(`create table token_counts (
      account_id text not null, org_id text not null, project_id text not null, api_key_type text not null,
      parent_identifier text not null, api_key_identifier text not null, n bigint not null,
      primary key (${COUNT_KEY}))`).execute(db);
    await sql.raw(`insert into token_counts (${COUNT_KEY}, n)
      select ${COUNT_KEY}, count(*) from (${countRowsOf('tokens')}) r group by ${COUNT_KEY}`).execute(db);
    await createCountTriggers(db, sqlite, false);
    // Migration 0004's three list indexes, ordered by created_at instead of updated_at.
    for (const [level, columns] of [['key', 'parent_identifier, api_key_identifier, '], ['parent', 'parent_identifier, '], ['scope', '']] as const) {
      await sql.raw(`create index tokens_list_by_${level}_created on tokens (account_id, org_id, project_id, api_key_type, ${columns}created_at desc, id)`).execute(db);
    }
  },
};

/**
 * The triggers that keep `token_counts` (migration 0011), and from migration 0014 on (`generation`)
 * also stamp each counter row they change with a new list generation and tally the change: see m0014.
 */
async function createCountTriggers(db: Kysely<any>, sqlite: boolean, generation: boolean): Promise<void> {
  const columns = generation ? `${COUNT_KEY}, n, gen, born, joins, leaves` : `${COUNT_KEY}, n`;
  // A row made afresh is born at its first generation; an existing one keeps its birth.
  const tally = (op: 'insert' | 'delete') => {
    const counter = op === 'insert' ? 'joins' : 'leaves';
    return generation ? `, gen = excluded.gen, ${counter} = token_counts.${counter} + excluded.${counter}` : '';
  };
  if (sqlite) {
    // One writer at a time: the generation is a one-row counter, bumped once per changed token.
    const extra = (op: 'insert' | 'delete') => (generation ? `, (select g from token_list_generation), (select g from token_list_generation), ${op === 'insert' ? '1, 0' : '0, 1'}` : '');
    const bump = generation ? 'update token_list_generation set g = g + 1;' : '';
    const rows = (r: string, n: string, op: 'insert' | 'delete') =>
      `(${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, '', '', ${n}${extra(op)}),
         (${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, ${r}.parent_identifier, '', ${n}${extra(op)}),
         (${r}.account_id, ${r}.org_id, ${r}.project_id, ${r}.api_key_type, ${r}.parent_identifier, ${r}.api_key_identifier, ${n}${extra(op)})`;
    await sql.raw(`create trigger tokens_counted_insert after insert on tokens begin
        ${bump}
        insert into token_counts (${columns}) values ${rows('new', '1', 'insert')}
          on conflict (${COUNT_KEY}) do update set n = n + excluded.n${tally('insert')};
      end`).execute(db);
    await sql.raw(`create trigger tokens_counted_delete after delete on tokens begin
        ${bump}
        insert into token_counts (${columns}) values ${rows('old', '-1', 'delete')}
          on conflict (${COUNT_KEY}) do update set n = n + excluded.n${tally('delete')};
        delete from token_counts where n = 0 and account_id = old.account_id and org_id = old.org_id and project_id = old.project_id
          and api_key_type = old.api_key_type and parent_identifier in ('', old.parent_identifier);
      end`).execute(db);
    return;
  }
  for (const [op, rel, sign] of [['insert', 'new_rows', ''], ['delete', 'old_rows', '-']] as const) {
    const zeroes =
      op === 'delete'
        ? `delete from token_counts c using (select distinct ${COUNT_KEY} from (${countRowsOf(rel)}) r) d
                 where c.n = 0 and (${COUNT_KEY.split(', ').map((k) => `c.${k}`).join(', ')}) = (${COUNT_KEY.split(', ').map((k) => `d.${k}`).join(', ')});`
        : '';
    // One generation per counter row and statement, the same value for gen and (if new) born.
    const select = generation
      ? `select ${COUNT_KEY}, ${sign}c, g, g, ${op === 'insert' ? 'c, 0' : '0, c'} from (
                select k.*, nextval('token_list_generation') as g from (
                  select ${COUNT_KEY}, count(*) as c from (${countRowsOf(rel)}) r group by ${COUNT_KEY} order by ${COUNT_KEY}) k) t
                order by ${COUNT_KEY}`
      : `select ${COUNT_KEY}, ${sign}count(*) from (${countRowsOf(rel)}) r group by ${COUNT_KEY} order by ${COUNT_KEY}`;
    await sql.raw(`create or replace function tokens_counted_${op}() returns trigger language plpgsql as $$
          begin
            insert into token_counts (${columns})
              ${select}
              on conflict (${COUNT_KEY}) do update set n = token_counts.n + excluded.n${tally(op)};
            ${zeroes}
            return null;
          end $$`).execute(db);
    if (!generation) {
      await sql.raw(`create trigger tokens_counted_${op} after ${op} on tokens
          referencing ${op === 'insert' ? 'new' : 'old'} table as ${rel} for each statement execute function tokens_counted_${op}()`).execute(db);
    }
  }
}

/**
 * Account policies (src/domain/policy.ts), one row per scope that sets one: the account's, an
 * organization's, a project's ('' for an absent org or project, as everywhere). The policy is JSON
 * so that a new rule needs no migration; an organization's or project's rows go with it
 * (src/services/scopes.ts, deleteScopedEntities).
 */
const m0013accountPolicies: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('account_policies')
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('org_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('project_id', text, (c) => c.notNull().defaultTo(''))
      .addColumn('policy', text, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('account_policies_pk', ['account_id', 'org_id', 'project_id'])
      .execute();
  },
};

/**
 * List generations for the token lists' remembered positions (src/store/seek.ts). Each `token_counts`
 * row carries:
 * - `gen`, a value drawn from one counter of the database that only grows, set anew whenever a token
 *   joins or leaves that row's list (the count triggers) or moves in it (an update of a column a list
 *   sorts by: created_at, updated_at, name, identifier). A node that remembered where rows of a list
 *   stood at generation g may seek from them while the row still says g: nothing joined, left or moved.
 *   A database-wide counter, not a per-row number, so that a list whose row was removed (count 0) and
 *   made again never repeats a generation. PostgreSQL: a sequence (never reissues a value; no lock);
 *   SQLite: a one-row table (one writer at a time).
 * - `born`, the generation at which the row was (last) made, and `joins`, `leaves`, `moves`, how many
 *   tokens joined, left and moved in the list since then: from them and two short counts, a node tells
 *   whether every change since it looked fell outside its remembered rows (new tokens before the first,
 *   expired ones after the last: store/seek.ts `rebased`), and then keeps them, shifted.
 */
const m0014tokenListGenerations: Migration = {
  async up(db: Kysely<any>) {
    const sqlite = !db.getExecutor().adapter.supportsTransactionalDdl;
    for (const column of ['gen', 'born', 'joins', 'leaves', 'moves']) {
      await sql.raw(`alter table token_counts add column ${column} bigint not null default 0`).execute(db);
    }
    const sortColumns = ['created_at', 'updated_at', 'name', 'identifier'];
    const moved = sortColumns.map((c) => `old.${c} is not new.${c}`).join(' or ');
    const ownRows = `account_id = new.account_id and org_id = new.org_id and project_id = new.project_id and api_key_type = new.api_key_type
          and parent_identifier in ('', new.parent_identifier) and api_key_identifier in ('', new.api_key_identifier)`;
    if (sqlite) {
      await sql.raw('create table token_list_generation (g integer not null)').execute(db);
      await sql.raw('insert into token_list_generation (g) values (0)').execute(db);
      await sql.raw('drop trigger tokens_counted_insert').execute(db);
      await sql.raw('drop trigger tokens_counted_delete').execute(db);
      await createCountTriggers(db, true, true);
      await sql.raw(`create trigger tokens_moved after update of ${sortColumns.join(', ')} on tokens when ${moved} begin
        update token_list_generation set g = g + 1;
        update token_counts set gen = (select g from token_list_generation), moves = moves + 1 where ${ownRows};
      end`).execute(db);
      return;
    }
    await sql.raw('create sequence token_list_generation').execute(db);
    await createCountTriggers(db, false, true);
    await sql.raw(`create function tokens_moved() returns trigger language plpgsql as $$
      begin
        update token_counts set gen = nextval('token_list_generation'), moves = moves + 1 where ${ownRows};
        return null;
      end $$`).execute(db);
    await sql.raw(`create trigger tokens_moved after update of ${sortColumns.join(', ')} on tokens
      for each row when (${moved.replaceAll(' is not ', ' is distinct from ')}) execute function tokens_moved()`).execute(db);
  },
};

/**
 * Lifecycle webhooks (src/services/webhooks.ts, docs/webhooks.md): an account's endpoints (the
 * signing secret sealed under the master key), the delivery queue (an outbox: a mutation's
 * deliveries are inserted in its own transaction; claimed with a lease), the log of attempts, and
 * one row per announced time event, whose key deduplicates the sweeps of several nodes.
 */
const m0012webhooks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('account_id', text, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('url', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull().defaultTo(''))
      .addColumn('events', text, (c) => c.notNull().defaultTo('[]'))
      .addColumn('enabled', int, (c) => c.notNull().defaultTo(1))
      .addColumn('secret_sealed', text, (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_endpoints_account').on('webhook_endpoints').columns(['account_id', 'created_at']).execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('event_id', text, (c) => c.notNull())
      .addColumn('endpoint_id', text, (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
      .addColumn('account_id', text, (c) => c.notNull())
      .addColumn('event_type', text, (c) => c.notNull())
      .addColumn('payload', text, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull())
      .addColumn('attempts', int, (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', ms, (c) => c.notNull())
      .addColumn('lease_until', ms)
      .addColumn('last_status_code', int)
      .addColumn('last_error', text)
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();
    await db.schema
      .createTable('webhook_attempts')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('delivery_id', text, (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
      .addColumn('endpoint_id', text, (c) => c.notNull())
      .addColumn('attempt', int, (c) => c.notNull())
      .addColumn('at', ms, (c) => c.notNull())
      .addColumn('status_code', int)
      .addColumn('duration_ms', int, (c) => c.notNull())
      .addColumn('error', text)
      .addColumn('response_excerpt', text)
      .execute();
    await db.schema.createIndex('webhook_attempts_endpoint').on('webhook_attempts').columns(['endpoint_id', 'at']).execute();
    await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').column('delivery_id').execute();
    await db.schema
      .createTable('webhook_announcements')
      .addColumn('token_id', text, (c) => c.notNull())
      .addColumn('event', text, (c) => c.notNull())
      .addColumn('lead_ms', ms, (c) => c.notNull())
      .addColumn('at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_announcements_pk', ['token_id', 'event', 'lead_ms'])
      .execute();
    await db.schema.createIndex('webhook_announcements_at').on('webhook_announcements').column('at').execute();
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_harness_resources': m0002,
  '0003_zenml': m0003zenml,
  '0004_token_lists': m0004tokenLists,
  '0005_harness_cg': m0005harnessCg,
  '0006_console': m0006console,
  '0007_api_key_parents': m0007apiKeyParents,
  '0008_email_per_account': m0008emailPerAccount,
  '0009_token_usage_hourly': m0009tokenUsageHourly,
  '0010_cg_user_groups': m0010cgUserGroups,
  '0011_token_counts': m0011tokenCounts,
  '0012_webhooks': m0012webhooks,
  '0013_account_policies': m0013accountPolicies,
  '0014_token_list_generations': m0014tokenListGenerations,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
