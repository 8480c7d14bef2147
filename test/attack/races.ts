/**
 * The race suite: many parallel requests against one limit, one unique name or one object, over real
 * HTTP. Each race returns what it saw (statuses, how many objects exist afterwards) so that
 * test/attack/races.test.ts can assert on it and bench/attack.ts can print it. Nothing here depends
 * on vitest: give it a base URL and an admin's credentials.
 */

export interface Admin {
  baseUrl: string;
  token: string;
  accountId: string;
  userId: string;
}

export interface Answer {
  status: number;
  body: any;
  text: string;
}

export async function call(a: Admin, method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<Answer> {
  const u = new URL(path, a.baseUrl);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const headers: Record<string, string> = { 'x-api-key': a.token };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(u, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text };
}

export interface RaceOutcome {
  name: string;
  requests: number;
  /** Status code -> count. */
  statuses: Record<number, number>;
  serverErrors: string[];
  /** How many objects exist afterwards, and how many may. */
  after: number;
  limit: number;
  /** What "won" means for this race (created, deleted), and how many did. */
  wins: number;
  expectedWins: { min: number; max: number };
  /** Answers that neither won nor were the protocol's own refusal for this race (a limit, a conflict, not found). */
  unexpected: string[];
}

export function overrun(o: RaceOutcome): boolean {
  return o.after > o.limit || o.wins < o.expectedWins.min || o.wins > o.expectedWins.max;
}

function tally(
  name: string,
  answers: Answer[],
  won: (a: Answer) => boolean,
  after: number,
  limit: number,
  expectedWins: { min: number; max: number },
  refusal: (a: Answer) => boolean,
): RaceOutcome {
  const statuses: Record<number, number> = {};
  for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  return {
    name,
    requests: answers.length,
    statuses,
    serverErrors: answers.filter((a) => a.status >= 500).map((a) => `${a.status} ${a.text.slice(0, 300)}`),
    after,
    limit,
    wins: answers.filter(won).length,
    expectedWins,
    unexpected: answers.filter((a) => !won(a) && !refusal(a)).map((a) => `${a.status} ${a.text.slice(0, 200)}`),
  };
}

const ngOk = (a: Answer) => a.status === 200 && a.body?.status === 'SUCCESS';
// Each protocol's own refusals (src/protocols/*/errors.ts).
const ngLimit = (a: Answer) => a.status === 400 && a.body?.code === 'INVALID_REQUEST' && /Maximum limit/.test(a.body?.message);
const ngConflict = (a: Answer) => a.status === 400 && a.body?.code === 'DUPLICATE_FIELD';
const ngNotFound = (a: Answer) => a.status === 404 && a.body?.code === 'ENTITY_NOT_FOUND';
const ngSaMissing = (a: Answer) => a.status === 400 && a.body?.code === 'INVALID_REQUEST' && /doesn't exist/.test(a.body?.message);
const zLimit = (a: Answer) => a.status === 403 && a.body?.detail?.[0] === 'IllegalOperationError';
const zConflict = (a: Answer) => a.status === 409 && a.body?.detail?.[0] === 'EntityExistsError';
const zNotFound = (a: Answer) => a.status === 404 && a.body?.detail?.[0] === 'KeyError';
const cgConflict = (a: Answer) => a.status === 400 && a.body?.responseMessages?.[0]?.code === 'DUPLICATE_FIELD';
const cgNotFound = (a: Answer) => a.status === 404 && a.body?.responseMessages?.[0]?.code === 'RESOURCE_NOT_FOUND';

let seq = 0;
const unique = (p: string) => `${p}_${Date.now().toString(36)}_${(seq++).toString(36)}`;

/** A fresh NG service account at account scope; returns its identifier. */
export async function ngServiceAccount(a: Admin): Promise<string> {
  const id = unique('race_sa');
  const r = await call(a, 'POST', '/ng/api/serviceaccount', { identifier: id, name: id, email: `${id}@service.harness.io`, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  if (r.status !== 200) throw new Error(`service account: ${r.status} ${r.text}`);
  return id;
}

export async function ngApiKey(a: Admin, sa: string): Promise<string> {
  const id = unique('race_key');
  const r = await call(a, 'POST', '/ng/api/apikey', { identifier: id, name: id, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  if (r.status !== 200) throw new Error(`api key: ${r.status} ${r.text}`);
  return id;
}

const keyQuery = (a: Admin, sa: string) => ({ accountIdentifier: a.accountId, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa });
const tokenQuery = (a: Admin, sa: string, key: string) => ({ ...keyQuery(a, sa), apiKeyIdentifier: key });

async function ngKeysOf(a: Admin, sa: string): Promise<number> {
  const r = await call(a, 'GET', '/ng/api/apikey', undefined, keyQuery(a, sa));
  return r.status === 200 ? (r.body.data as unknown[]).length : -1;
}

async function ngTokensOf(a: Admin, sa: string, key: string): Promise<number> {
  const r = await call(a, 'GET', '/ng/api/token/aggregate', undefined, { ...tokenQuery(a, sa, key), pageSize: '100' });
  return r.status === 200 ? (r.body.data.content as unknown[]).length : -1;
}

/** NG: n parallel creates of API keys under one service account, each with its own identifier. */
export async function raceNgApiKeyLimit(a: Admin, n: number, limit: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      call(a, 'POST', '/ng/api/apikey', { identifier: `k${i}`, name: `k${i}`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
    ),
  );
  return tally('NG API keys per service account', answers, ngOk, await ngKeysOf(a, sa), limit, { min: limit, max: limit }, ngLimit);
}

/** NG: n parallel token creates under one key, each with its own identifier. */
export async function raceNgTokenLimit(a: Admin, n: number, limit: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      call(a, 'POST', '/ng/api/token', { identifier: `t${i}`, name: `t${i}`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
    ),
  );
  return tally('NG tokens per API key', answers, ngOk, await ngTokensOf(a, sa, key), limit, { min: limit, max: limit }, ngLimit);
}

/** NG: n parallel creates of one API key identifier: exactly one is made, the rest are DUPLICATE_FIELD. */
export async function raceNgApiKeyName(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      // Case differs: identifiers are unique case-insensitively.
      call(a, 'POST', '/ng/api/apikey', { identifier: i % 2 ? 'same' : 'SAME', name: 'same', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
    ),
  );
  return tally('NG one API key identifier', answers, ngOk, await ngKeysOf(a, sa), 1, { min: 1, max: 1 }, ngConflict);
}

/** NG: n parallel creates of one token identifier under one key. */
export async function raceNgTokenName(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const answers = await Promise.all(
    Array.from({ length: n }, () =>
      call(a, 'POST', '/ng/api/token', { identifier: 'same', name: 'same', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
    ),
  );
  return tally('NG one token identifier', answers, ngOk, await ngTokensOf(a, sa, key), 1, { min: 1, max: 1 }, ngConflict);
}

/** NG: n parallel creates of one service account identifier. */
export async function raceNgServiceAccountName(a: Admin, n: number): Promise<RaceOutcome> {
  const id = unique('race_same_sa');
  const answers = await Promise.all(
    Array.from({ length: n }, () =>
      call(a, 'POST', '/ng/api/serviceaccount', { identifier: id, name: id, email: `${id}@service.harness.io`, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
    ),
  );
  const after = await call(a, 'GET', `/ng/api/serviceaccount/aggregate/${id}`, undefined, { accountIdentifier: a.accountId });
  return tally('NG one service account identifier', answers, ngOk, after.status === 200 ? 1 : 0, 1, { min: 1, max: 1 }, ngConflict);
}

/**
 * NG: deleting a key while n tokens are being created under it. Never a 5xx; the key is gone
 * afterwards, unless a create that came after the delete made it again as Harness does (POST /token
 * auto-creates a missing key, named `<id>_auto`): such a key is new, not the deleted one.
 */
export async function raceNgDeleteKeyWhileCreatingTokens(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const creates = Array.from({ length: n }, (_, i) =>
    call(a, 'POST', '/ng/api/token', { identifier: `t${i}`, name: `t${i}`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId }),
  );
  const del = call(a, 'DELETE', `/ng/api/apikey/${key}`, undefined, keyQuery(a, sa));
  const answers = await Promise.all([...creates, del]);
  const deleteAnswer = answers[answers.length - 1]!;
  const keys = await call(a, 'GET', '/ng/api/apikey', undefined, keyQuery(a, sa));
  const survivors = keys.status === 200 ? (keys.body.data as Array<{ identifier: string; name: string }>).filter((k) => k.name !== `${key}_auto`).length : -1;
  return tally('NG delete a key while creating tokens under it', answers, (x) => x === deleteAnswer && ngOk(x), survivors, 0, { min: 1, max: 1 }, (x) => ngOk(x) || ngLimit(x) || ngNotFound(x));
}

/** NG: rotating a token while its key is deleted: never a 5xx, the key is gone afterwards. */
export async function raceNgDeleteKeyWhileRotating(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const made = await call(a, 'POST', '/ng/api/token', { identifier: 'rot', name: 'rot', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  if (made.status !== 200) throw new Error(`token: ${made.status} ${made.text}`);
  const rotations = Array.from({ length: n }, () => call(a, 'POST', '/ng/api/token/rotate/rot', undefined, tokenQuery(a, sa, key)));
  const del = call(a, 'DELETE', `/ng/api/apikey/${key}`, undefined, keyQuery(a, sa));
  const answers = await Promise.all([...rotations, del]);
  return tally('NG delete a key while rotating its token', answers, (x) => x === answers[answers.length - 1] && ngOk(x), await ngKeysOf(a, sa), 0, { min: 1, max: 1 }, (x) => ngOk(x) || ngNotFound(x));
}

/** NG: n concurrent deletes of one token: exactly one answers 200, the rest not found. */
export async function raceNgDeleteToken(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const made = await call(a, 'POST', '/ng/api/token', { identifier: 'gone', name: 'gone', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  if (made.status !== 200) throw new Error(`token: ${made.status} ${made.text}`);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'DELETE', '/ng/api/token/gone', undefined, tokenQuery(a, sa, key))));
  return tally('NG concurrent deletes of one token', answers, ngOk, await ngTokensOf(a, sa, key), 0, { min: 1, max: 1 }, ngNotFound);
}

/** NG: n concurrent deletes of one API key. */
export async function raceNgDeleteApiKey(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'DELETE', `/ng/api/apikey/${key}`, undefined, keyQuery(a, sa))));
  return tally('NG concurrent deletes of one API key', answers, ngOk, await ngKeysOf(a, sa), 0, { min: 1, max: 1 }, ngNotFound);
}

/** NG: n concurrent deletes of one service account. */
export async function raceNgDeleteServiceAccount(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await ngServiceAccount(a);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'DELETE', `/ng/api/serviceaccount/${sa}`, undefined, { accountIdentifier: a.accountId })));
  const after = await call(a, 'GET', `/ng/api/serviceaccount/aggregate/${sa}`, undefined, { accountIdentifier: a.accountId });
  return tally('NG concurrent deletes of one service account', answers, ngOk, after.status === 200 ? 1 : 0, 0, { min: 1, max: 1 }, ngSaMissing);
}

// ---- ZenML -------------------------------------------------------------------------------------------

async function zenmlServiceAccount(a: Admin): Promise<string> {
  const name = unique('race_zsa');
  const r = await call(a, 'POST', '/api/v1/service_accounts', { name, description: '', active: true });
  if (r.status !== 200) throw new Error(`zenml service account: ${r.status} ${r.text}`);
  return r.body.id as string;
}

async function zenmlKeysOf(a: Admin, sa: string): Promise<number> {
  const r = await call(a, 'GET', `/api/v1/service_accounts/${sa}/api_keys`, undefined, { size: '1000' });
  return r.status === 200 ? (r.body.items as unknown[]).length : -1;
}

const zOk = (x: Answer) => x.status === 200;

/** ZenML: n parallel key creates under one service account, each with its own name. */
export async function raceZenmlApiKeyLimit(a: Admin, n: number, limit: number): Promise<RaceOutcome> {
  const sa = await zenmlServiceAccount(a);
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => call(a, 'POST', `/api/v1/service_accounts/${sa}/api_keys`, { name: `k${i}` })));
  return tally('ZenML API keys per service account', answers, zOk, await zenmlKeysOf(a, sa), limit, { min: limit, max: limit }, zLimit);
}

/** ZenML: n parallel creates of one key name. */
export async function raceZenmlApiKeyName(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await zenmlServiceAccount(a);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'POST', `/api/v1/service_accounts/${sa}/api_keys`, { name: 'same' })));
  return tally('ZenML one API key name', answers, zOk, await zenmlKeysOf(a, sa), 1, { min: 1, max: 1 }, zConflict);
}

/** ZenML: n parallel creates of one service account name. */
export async function raceZenmlServiceAccountName(a: Admin, n: number): Promise<RaceOutcome> {
  const name = unique('race_same_zsa');
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'POST', '/api/v1/service_accounts', { name, description: '', active: true })));
  const list = await call(a, 'GET', '/api/v1/service_accounts', undefined, { name, size: '1000' });
  return tally('ZenML one service account name', answers, zOk, list.status === 200 ? (list.body.items as unknown[]).length : -1, 1, { min: 1, max: 1 }, zConflict);
}

/** ZenML: n parallel rotations of one key: one current secret and at most one previous afterwards, as ZenML keeps. */
export async function raceZenmlRotate(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await zenmlServiceAccount(a);
  const k = await call(a, 'POST', `/api/v1/service_accounts/${sa}/api_keys`, { name: 'rot' });
  if (k.status !== 200) throw new Error(`zenml key: ${k.status} ${k.text}`);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'PUT', `/api/v1/service_accounts/${sa}/api_keys/rot/rotate`, { retain_period_minutes: 60 })));
  // Every answer that succeeded carried a secret; only the last rotation's and its predecessor's still verify.
  const secrets = answers.filter(zOk).map((x) => x.body?.body?.key as string | undefined).filter((s): s is string => typeof s === 'string');
  let working = 0;
  for (const s of secrets) {
    const v = await fetch(new URL('/v1/verify', a.baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: s }) });
    if (((await v.json()) as { valid?: boolean }).valid === true) working++;
  }
  return tally('ZenML concurrent rotations of one key (secrets still valid)', answers, zOk, working, 2, { min: 1, max: n }, () => false);
}

/** ZenML: n concurrent deletes of one key. */
export async function raceZenmlDeleteKey(a: Admin, n: number): Promise<RaceOutcome> {
  const sa = await zenmlServiceAccount(a);
  const k = await call(a, 'POST', `/api/v1/service_accounts/${sa}/api_keys`, { name: 'gone' });
  if (k.status !== 200) throw new Error(`zenml key: ${k.status} ${k.text}`);
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'DELETE', `/api/v1/service_accounts/${sa}/api_keys/gone`)));
  return tally('ZenML concurrent deletes of one key', answers, zOk, await zenmlKeysOf(a, sa), 0, { min: 1, max: 1 }, zNotFound);
}

// ---- CG REST -----------------------------------------------------------------------------------------

/** CG REST: n parallel creates of one key name (unique per account). */
export async function raceCgApiKeyName(a: Admin, n: number): Promise<RaceOutcome> {
  const name = unique('race_cg');
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'POST', '/api/api-keys', { name, userGroupIds: [] }, { accountId: a.accountId })));
  const list = await call(a, 'GET', '/api/api-keys', undefined, { accountId: a.accountId, limit: '1000' });
  const after = list.status === 200 ? (list.body.resource.response as Array<{ name: string }>).filter((k) => k.name === name).length : -1;
  return tally('CG one API key name', answers, zOk, after, 1, { min: 1, max: 1 }, cgConflict);
}

/** CG REST: n concurrent deletes of one key. */
export async function raceCgDeleteKey(a: Admin, n: number): Promise<RaceOutcome> {
  const made = await call(a, 'POST', '/api/api-keys', { name: unique('race_cg_del'), userGroupIds: [] }, { accountId: a.accountId });
  if (made.status !== 200) throw new Error(`cg key: ${made.status} ${made.text}`);
  const id = made.body.resource.uuid as string;
  const answers = await Promise.all(Array.from({ length: n }, () => call(a, 'DELETE', `/api/api-keys/${id}`, undefined, { accountId: a.accountId })));
  const after = await call(a, 'GET', `/api/api-keys/${id}`, undefined, { accountId: a.accountId });
  return tally('CG concurrent deletes of one key', answers, zOk, after.status === 200 ? 1 : 0, 0, { min: 1, max: 1 }, cgNotFound);
}

/** Every race, in order, with the limits the server runs with. */
export function allRaces(limits: { apiKeysPerParent: number; tokensPerApiKey: number }): Array<[string, (a: Admin, n: number) => Promise<RaceOutcome>]> {
  return [
    ['NG API key limit', (a, n) => raceNgApiKeyLimit(a, n, limits.apiKeysPerParent)],
    ['NG token limit', (a, n) => raceNgTokenLimit(a, n, limits.tokensPerApiKey)],
    ['NG API key identifier', raceNgApiKeyName],
    ['NG token identifier', raceNgTokenName],
    ['NG service account identifier', raceNgServiceAccountName],
    ['NG delete key vs create tokens', raceNgDeleteKeyWhileCreatingTokens],
    ['NG delete key vs rotate', raceNgDeleteKeyWhileRotating],
    ['NG delete one token', raceNgDeleteToken],
    ['NG delete one API key', raceNgDeleteApiKey],
    ['NG delete one service account', raceNgDeleteServiceAccount],
    ['ZenML API key limit', (a, n) => raceZenmlApiKeyLimit(a, n, limits.apiKeysPerParent)],
    ['ZenML API key name', raceZenmlApiKeyName],
    ['ZenML service account name', raceZenmlServiceAccountName],
    ['ZenML rotate one key', raceZenmlRotate],
    ['ZenML delete one key', raceZenmlDeleteKey],
    ['CG API key name', raceCgApiKeyName],
    ['CG delete one key', raceCgDeleteKey],
  ];
}
