/**
 * The Kysely schema type, shared by SQLite and PostgreSQL. Conventions that keep both dialects
 * identical: times are epoch milliseconds (bigint in PostgreSQL, integer in SQLite); booleans are
 * 0/1 integers; JSON is text; an absent org or project is '' (never NULL) so that composite unique
 * indexes behave the same on both databases.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface AccountTable {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface OrganizationTable {
  id: string;
  account_id: string;
  identifier: string;
  name: string;
  description: string;
  tags: string;
  created_at: number;
  updated_at: number;
}

export interface ProjectTable {
  id: string;
  account_id: string;
  org_id: string;
  identifier: string;
  name: string;
  description: string;
  color: string;
  tags: string;
  /** JSON array of module names (Harness's `modules`). */
  modules: string;
  created_at: number;
  updated_at: number;
}

export interface UserTable {
  id: string;
  account_id: string;
  email: string;
  /** lower(email); unique across Keyward so that sign-in needs no account. */
  email_lower: string;
  name: string;
  /** scrypt$N$r$p$salt$hash, or null when the user signs in with tokens only. */
  password_hash: string | null;
  active: number;
  /** System operators may create accounts. The bootstrap admin is one. */
  is_operator: number;
  created_at: number;
  updated_at: number;
}

export interface ServiceAccountTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  name: string;
  email: string;
  description: string;
  tags: string;
  active: number;
  /** Set for service accounts named through ZenML: unique per account. */
  unique_name: string | null;
  created_at: number;
  updated_at: number;
}

export interface RoleTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  name: string;
  description: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

export interface RoleAssignmentTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  role_identifier: string;
  resource_group_identifier: string;
  principal_type: string;
  /** The principal's internal id: user id, service-account id or user-group id. */
  principal_id: string;
  disabled: number;
  managed: number;
  /** Where the principal lives ('account', 'organization', 'project'), as the caller named it. */
  principal_scope_level: string | null;
  /** Where the role is defined, when the caller named it (Harness's roleReference). */
  role_scope_level: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserGroupTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  name: string;
  description: string;
  tags: string;
  /** JSON of CgNotificationSettings, CgSsoSetting, CgPermissions (migration 0010); null when never set. */
  cg_notification_settings: string | null;
  cg_sso_setting: string | null;
  cg_permissions: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserGroupMemberTable {
  user_group_id: string;
  user_id: string;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  name: string;
  description: string;
  tags: string;
  api_key_type: string;
  parent_identifier: string;
  user_id: string | null;
  service_account_id: string | null;
  default_ttl_ms: number;
  active: number;
  /** Which protocol made it: 'harness_ng', 'zenml' or 'harness_cg'. Decides its token format. */
  flavor: string;
  /** Set for keys named through ZenML: unique per service account. */
  unique_name: string | null;
  /** ZenML: how long the previous secret keeps working after a rotation. */
  retain_period_minutes: Generated<number>;
  last_rotated_at: number | null;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface TokenTable {
  id: string;
  api_key_id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  name: string;
  description: string;
  tags: string;
  api_key_type: string;
  parent_identifier: string;
  api_key_identifier: string;
  format: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  secret_digest: string;
  valid_from: number;
  /** Null for formats whose tokens do not expire on their own (ZenML, CG). */
  valid_to: number | null;
  /** Set when the token is rotated out: it stops working at this time. */
  scheduled_expire_at: number | null;
  rotated_at: number | null;
  /** AES-256-GCM ciphertext for formats whose value must be readable again (CG keys only). */
  encrypted_value: string | null;
  last_used_at: number | null;
  last_used_ip: string | null;
  last_used_user_agent: string | null;
  created_at: number;
  updated_at: number;
}

/** Harness CG API keys (migration 0005). */
export interface CgApiKeyTable {
  id: string;
  account_id: string;
  name: string;
  /** SHA-256 of the whole key, hex: the verification lookup. */
  secret_digest: string;
  /** The key sealed under the master key (domain/masterKey.ts): read back only by CG REST GET. */
  encrypted_value: string;
  created_at: number;
  updated_at: number;
}

export interface CgApiKeyUserGroupTable {
  api_key_id: string;
  user_group_id: string;
  /** Keeps the order the caller gave. */
  position: number;
}

export interface AuditEventTable {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  at: number;
  actor_type: string;
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  outcome: string;
  details: string;
  request_id: string | null;
}

export interface TokenTombstoneTable {
  id: string;
  api_key_id: string;
  deleted_at: number;
}

export interface SettingTable {
  key: string;
  value: string;
  created_at: number;
}

export interface ConsoleSessionTable {
  id: string;
  account_id: string;
  user_id: string;
  token_id: string | null;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
}

export interface Database {
  accounts: AccountTable;
  organizations: OrganizationTable;
  projects: ProjectTable;
  users: UserTable;
  service_accounts: ServiceAccountTable;
  roles: RoleTable;
  role_assignments: RoleAssignmentTable;
  user_groups: UserGroupTable;
  user_group_members: UserGroupMemberTable;
  api_keys: ApiKeyTable;
  tokens: TokenTable;
  audit_events: AuditEventTable;
  token_tombstones: TokenTombstoneTable;
  settings: SettingTable;
  cg_api_keys: CgApiKeyTable;
  cg_api_key_user_groups: CgApiKeyUserGroupTable;
  console_sessions: ConsoleSessionTable;
  token_usage_hourly: TokenUsageHourlyTable;
  token_counts: TokenCountTable;
  account_policies: AccountPolicyTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  webhook_announcements: WebhookAnnouncementTable;
}

/**
 * Tokens per scope and key type, per parent and per key (migration 0011, kept by triggers on
 * `tokens`): '' in parent_identifier and api_key_identifier stands for "all of them".
 */
export interface TokenCountTable {
  account_id: string;
  org_id: string;
  project_id: string;
  api_key_type: string;
  parent_identifier: string;
  api_key_identifier: string;
  n: number;
  /** The list's generation (migration 0014): new whenever a token joins, leaves or moves in the list. */
  gen: number;
  /** The generation the row was made at, and the tokens that joined, left and moved in the list since. */
  born: number;
  joins: number;
  leaves: number;
  moves: number;
}

/** A policy set at one scope (src/domain/policy.ts); `policy` is its JSON. */
export interface AccountPolicyTable {
  account_id: string;
  org_id: string;
  project_id: string;
  policy: string;
  updated_at: number;
}

/** Verifications of a token in one hour (ms at the hour's start), by outcome. */
export interface TokenUsageHourlyTable {
  token_id: string;
  hour: number;
  outcome: string;
  count: number;
}

export type AccountRow = Selectable<AccountTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
export type ProjectRow = Selectable<ProjectTable>;
export type UserRow = Selectable<UserTable>;
export type ServiceAccountRow = Selectable<ServiceAccountTable>;
export type RoleRow = Selectable<RoleTable>;
export type RoleAssignmentRow = Selectable<RoleAssignmentTable>;
export type UserGroupRow = Selectable<UserGroupTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type TokenRow = Selectable<TokenTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
export type NewAuditEvent = Insertable<AuditEventTable>;
export type TokenUpdate = Updateable<TokenTable>;

/** Lifecycle webhooks (migration 0012). */
export interface WebhookEndpointTable {
  id: string;
  account_id: string;
  url: string;
  description: string;
  /** JSON array of event types; empty: every event. */
  events: string;
  enabled: number;
  /** The `whsec_` signing secret sealed under the master key (domain/masterKey.ts). */
  secret_sealed: string;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveryTable {
  /** Sent as `webhook-id`: the same on every retry and replay, so receivers can deduplicate. */
  id: string;
  event_id: string;
  endpoint_id: string;
  account_id: string;
  event_type: string;
  payload: string;
  /** pending, succeeded or failed. A pending delivery with a lease in the future is being sent. */
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** At most RESPONSE_EXCERPT_BYTES of the receiver's answer. */
  response_excerpt: string | null;
}

export interface WebhookAnnouncementTable {
  token_id: string;
  event: string;
  lead_ms: number;
  at: number;
}
