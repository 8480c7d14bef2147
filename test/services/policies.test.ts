/** Account policies (docs/policies.md): limits, lifetime, grace, scope overrides, audit, violations. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { InvalidArgumentError, LimitExceededError, PermissionDeniedError } from '../../src/domain/errors.js';
import { PolicyViolationError } from '../../src/domain/policy.js';
import { makeScope } from '../../src/domain/scope.js';
import { randomBytes } from 'node:crypto';
import { Keyring } from '../../src/domain/masterKey.js';

const keyring = new Keyring(randomBytes(32));
import { describeEachDb } from '../helpers/databases.js';
import { DAY, HOUR, addServiceAccount, addUser, failure, openServiceWorld, reasonOf, saOwner, userOwner, type ServiceWorld } from '../helpers/services.js';

describeEachDb('account policies', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind, { limits: { apiKeysPerParent: 3, tokensPerApiKey: 2 }, keyring: () => keyring });
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'org1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'p1', name: 'p1' });
  });
  afterEach(async () => w.close());

  const acct = () => makeScope(w.accountId);
  const org = () => makeScope(w.accountId, 'org1');
  const project = () => makeScope(w.accountId, 'org1', 'p1');

  async function keys(owner: ReturnType<typeof saOwner>, n: number, prefix = 'k') {
    for (let i = 0; i < n; i++) await w.services.apiKeys.create(w.admin, owner, { identifier: `${prefix}${i}`, name: `${prefix}${i}` });
  }

  it('without a policy, the process-wide limits apply; a policy replaces them; "unlimited" lifts them', async () => {
    const owner = saOwner(await addServiceAccount(w, 'sa1'));
    await keys(owner, 3);
    expect(await failure(w.services.apiKeys.create(w.admin, owner, { identifier: 'k3', name: 'k3' }))).toMatchObject({ constructor: LimitExceededError, limit: 3 });

    const view = await w.services.policies.set(w.admin, acct(), { maxApiKeysPerOwner: 4 });
    expect(view.effective).toMatchObject({ maxApiKeysPerOwner: 4, maxTokensPerApiKey: 2, sources: { maxApiKeysPerOwner: { level: 'account' }, maxTokensPerApiKey: { level: 'default' } } });
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k3', name: 'k3' });
    expect(await failure(w.services.apiKeys.create(w.admin, owner, { identifier: 'k4', name: 'k4' }))).toMatchObject({ constructor: LimitExceededError, limit: 4 });

    await w.services.policies.set(w.admin, acct(), { maxApiKeysPerOwner: 'unlimited', maxTokensPerApiKey: 'unlimited' });
    await keys(owner, 4, 'more');
    for (let i = 0; i < 4; i++) await w.services.tokens.create(w.admin, owner, { identifier: `t${i}`, name: `t${i}`, apiKeyIdentifier: 'k0' });

    // Unset again: back to the process-wide default (and the owner, now over it, gets no more).
    await w.services.policies.set(w.admin, acct(), {});
    for (const t of ['t1', 't2']) await w.services.tokens.create(w.admin, owner, { identifier: t, name: t, apiKeyIdentifier: 'k1' });
    expect(await failure(w.services.tokens.create(w.admin, owner, { identifier: 't3', name: 't3', apiKeyIdentifier: 'k1' }))).toMatchObject({ constructor: LimitExceededError, limit: 2 });
  });

  it('an organization overrides the account and a project overrides its organization, field by field', async () => {
    await w.services.policies.set(w.admin, acct(), { maxApiKeysPerOwner: 1, maxTokenLifetimeDays: 90 });
    await w.services.policies.set(w.admin, org(), { maxApiKeysPerOwner: 2 });
    await w.services.policies.set(w.admin, project(), { maxTokenLifetimeDays: 7 });

    const atProject = (await w.services.policies.get(w.admin, project())).effective;
    expect(atProject).toMatchObject({ maxApiKeysPerOwner: 2, maxTokenLifetimeDays: 7, sources: { maxApiKeysPerOwner: { level: 'organization' }, maxTokenLifetimeDays: { level: 'project' } } });

    const accountSa = saOwner(await addServiceAccount(w, 'sa_acct'));
    const orgSa = saOwner(await addServiceAccount(w, 'sa_org', org()));
    const projectSa = saOwner(await addServiceAccount(w, 'sa_proj', project()));
    await keys(accountSa, 1);
    expect(await failure(keys(accountSa, 1, 'x'))).toBeInstanceOf(LimitExceededError);
    await keys(orgSa, 2);
    expect(await failure(keys(orgSa, 1, 'x'))).toBeInstanceOf(LimitExceededError);
    await keys(projectSa, 2);

    // 30 days: fine at the organization (90 from the account), too long in the project (7).
    const validTo = w.clock.now() + 30 * DAY;
    await w.services.tokens.create(w.admin, orgSa, { identifier: 't', name: 't', apiKeyIdentifier: 'k0', validTo });
    const e = await failure<PolicyViolationError>(w.services.tokens.create(w.admin, projectSa, { identifier: 't', name: 't', apiKeyIdentifier: 'k0', validTo }));
    expect(e).toBeInstanceOf(PolicyViolationError);
    expect(e.rule).toBe('maxTokenLifetimeDays');
    expect(e.message).toBe('The token would be valid for 30 days; the policy of project [p1] in organization [org1] allows at most 7 days (maxTokenLifetimeDays)');
  });

  it('lifetime: an end asked for beyond it is refused; a default end is shortened to fit; updates and rotation keep to it', async () => {
    await w.services.policies.set(w.admin, acct(), { maxTokenLifetimeDays: 10 });
    const owner = userOwner(w, w.provisioned.admin.id);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'laptop', name: 'laptop' }); // default lifetime 30 days
    const now = w.clock.now();
    expect(await failure(w.services.tokens.create(w.admin, owner, { identifier: 'long', name: 'long', apiKeyIdentifier: 'laptop', validTo: now + 11 * DAY }))).toBeInstanceOf(PolicyViolationError);
    const capped = await w.services.tokens.create(w.admin, owner, { identifier: 'dflt', name: 'dflt', apiKeyIdentifier: 'laptop' });
    expect(capped.token.validTo).toBe(now + 10 * DAY);

    const e = await failure(w.services.tokens.update(w.admin, owner, { identifier: 'dflt', name: 'dflt', apiKeyIdentifier: 'laptop', validTo: now + 12 * DAY }));
    expect(e).toBeInstanceOf(PolicyViolationError);
    expect((await w.services.tokens.get(w.admin, owner, 'laptop', 'dflt')).validTo).toBe(now + 10 * DAY);

    // Rotation five days later: the new token keeps the old end (5 days from now), within 10 days.
    w.clock.advance(5 * DAY);
    const rotated = await w.services.tokens.rotate(w.admin, owner, 'laptop', 'dflt');
    expect(rotated.token.validTo).toBe(now + 10 * DAY);
  });

  it('rotation grace: Harness rotate and ZenML retain beyond the maximum are refused, within it they work', async () => {
    await w.services.policies.set(w.admin, acct(), { maxRotationGraceMinutes: 60 });
    const owner = userOwner(w, w.provisioned.admin.id);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k', name: 'k' });
    const issued = await w.services.tokens.create(w.admin, owner, { identifier: 't', name: 't', apiKeyIdentifier: 'k' });
    const e = await failure<PolicyViolationError>(w.services.tokens.rotate(w.admin, owner, 'k', 't', w.clock.now() + 2 * HOUR));
    expect(e).toBeInstanceOf(PolicyViolationError);
    expect(e.message).toContain('at most 60 minutes');
    expect(await reasonOf(w.services, issued.secret)).toBe('valid'); // nothing rotated
    await w.services.tokens.rotate(w.admin, owner, 'k', 't', w.clock.now() + HOUR);

    const sa = await w.services.zenml.createServiceAccount(w.admin, w.accountId, { name: 'zen' });
    await w.services.zenml.createKey(w.admin, w.accountId, sa.id, { name: 'key' });
    expect(await failure(w.services.zenml.rotateKey(w.admin, w.accountId, sa.id, 'key', 61))).toBeInstanceOf(PolicyViolationError);
    await w.services.zenml.rotateKey(w.admin, w.accountId, sa.id, 'key', 60);
  });

  it('ZenML and Harness CG keys, which cannot expire, are refused under a lifetime or expiry rule', async () => {
    const sa = await w.services.zenml.createServiceAccount(w.admin, w.accountId, { name: 'zen' });
    const before = await w.services.zenml.createKey(w.admin, w.accountId, sa.id, { name: 'before' });
    await w.services.policies.set(w.admin, acct(), { requireExpiry: true });
    // Rotating would issue a new secret without an end date: refused, and the old secret is untouched.
    expect(await failure(w.services.zenml.rotateKey(w.admin, w.accountId, sa.id, 'before', 0))).toBeInstanceOf(PolicyViolationError);
    expect(await reasonOf(w.services, before.secret)).toBe('valid');
    const z = await failure(w.services.zenml.createKey(w.admin, w.accountId, sa.id, { name: 'key' }));
    expect(z).toBeInstanceOf(PolicyViolationError);
    expect(z.message).toBe('A ZenML API key (ZenML keys have no end date) must expire: the account policy requires an end date (requireExpiry)');
    expect((await w.services.zenml.listKeys(w.admin, w.accountId, sa.id)).map((k) => k.key.name)).toEqual(['before']); // nothing half-written
    const cg = await failure(w.services.cgApiKeys.create(w.admin, w.accountId, { name: 'cg' }));
    expect(cg).toBeInstanceOf(PolicyViolationError);
    expect(cg.message).toContain('Harness CG API key');
  });

  it('a change is audited with the old and new policy; a bad value is refused by field', async () => {
    await w.services.policies.set(w.admin, org(), { maxTokenLifetimeDays: 30 });
    w.clock.advance(1000);
    await w.services.policies.set(w.admin, org(), { maxTokenLifetimeDays: 7, requireExpiry: true });
    const events = await w.services.audit.list(w.admin, { accountId: w.accountId, action: 'policy.update', limit: 10 });
    const last = events.items[0]!;
    expect(last).toMatchObject({ action: 'policy.update', outcome: 'success', orgId: 'org1' });
    expect(last.details).toMatchObject({
      before: { maxTokenLifetimeDays: 30, requireExpiry: null },
      after: { maxTokenLifetimeDays: 7, requireExpiry: true },
      changed: ['maxTokenLifetimeDays', 'requireExpiry'],
    });
    const bad = await failure<InvalidArgumentError>(w.services.policies.set(w.admin, acct(), { maxTokenLifetimeDays: 0, maxApiKeysPerOwner: 'lots' as never }));
    expect(bad.violations.map((v) => v.field)).toEqual(['maxTokenLifetimeDays', 'maxApiKeysPerOwner']);
  });

  it('reading needs account view, changing needs account edit', async () => {
    const { caller: viewer } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    const { caller: nobody } = await addUser(w, 'nobody@acme.test');
    await w.services.policies.get(viewer, acct());
    expect(await failure(w.services.policies.set(viewer, acct(), { requireExpiry: true }))).toBeInstanceOf(PermissionDeniedError);
    expect(await failure(w.services.policies.get(nobody, acct()))).toBeInstanceOf(PermissionDeniedError);
    expect(await failure(w.services.policies.violations(nobody, w.accountId))).toBeInstanceOf(PermissionDeniedError);
  });

  it('existing credentials that break a new policy are listed, and keep working', async () => {
    const owner = userOwner(w, w.provisioned.admin.id);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k', name: 'k' });
    const long = await w.services.tokens.create(w.admin, owner, { identifier: 'long', name: 'long', apiKeyIdentifier: 'k', validTo: w.clock.now() + 60 * DAY });
    const short = await w.services.tokens.create(w.admin, owner, { identifier: 'short', name: 'short', apiKeyIdentifier: 'k', validTo: w.clock.now() + 5 * DAY });
    const sa = await w.services.zenml.createServiceAccount(w.admin, w.accountId, { name: 'zen' });
    const zkey = await w.services.zenml.createKey(w.admin, w.accountId, sa.id, { name: 'zkey' });
    const cg = await w.services.cgApiKeys.create(w.admin, w.accountId, { name: 'cg' });

    await w.services.policies.set(w.admin, acct(), { maxTokenLifetimeDays: 30 });
    const found = await w.services.policies.violations(w.admin, w.accountId);
    const byName = Object.fromEntries(found.map((v) => [v.credential.name, v]));
    // The bootstrap admin's token (30 days, Harness's default) is within the rule; "short" too.
    expect(Object.keys(byName).sort()).toEqual(['cg', 'current', 'long']);
    expect(byName.long).toMatchObject({ rule: 'maxTokenLifetimeDays', source: { level: 'account' }, credential: { kind: 'token', id: long.token.id, apiKeyIdentifier: 'k', format: 'harness_ng' } });
    expect(byName.current).toMatchObject({ rule: 'maxTokenLifetimeDays', credential: { kind: 'token', format: 'zenml', expiresAt: null } });
    expect(byName.cg).toMatchObject({ credential: { kind: 'cg_api_key', id: cg.key.id } });
    expect(await reasonOf(w.services, long.secret)).toBe('valid');
    expect(await reasonOf(w.services, short.secret)).toBe('valid');
    expect(await reasonOf(w.services, zkey.secret)).toBe('valid');

    // Once the long token has expired it is no longer reported.
    w.clock.advance(61 * DAY);
    expect((await w.services.policies.violations(w.admin, w.accountId)).map((v) => v.credential.name).sort()).toEqual(['cg', 'current']);
  });

  it('a rotated-out token kept working longer than a new grace maximum is listed; the new token is judged by its lifetime', async () => {
    const owner = userOwner(w, w.provisioned.admin.id);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k', name: 'k' });
    const old = await w.services.tokens.create(w.admin, owner, { identifier: 't', name: 't', apiKeyIdentifier: 'k', validTo: w.clock.now() + 5 * DAY });
    await w.services.tokens.rotate(w.admin, owner, 'k', 't', w.clock.now() + 3 * HOUR);
    await w.services.policies.set(w.admin, acct(), { maxRotationGraceMinutes: 60 });
    const found = await w.services.policies.violations(w.admin, w.accountId);
    expect(found.map((v) => [v.credential.id, v.rule])).toEqual([[old.token.id, 'maxRotationGraceMinutes']]);
    expect(found[0]!.message).toContain('this rotation gives 180 minutes');
    expect(await reasonOf(w.services, old.secret)).toBe('valid');
  });

  it("deleting an organization removes its policy, so a new one of the same name starts without it", async () => {
    await w.services.policies.set(w.admin, org(), { maxApiKeysPerOwner: 1 });
    await w.services.scopes.deleteOrganization(w.admin, w.accountId, 'org1');
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'org1' });
    expect((await w.services.policies.get(w.admin, org())).effective).toMatchObject({ maxApiKeysPerOwner: 3, sources: { maxApiKeysPerOwner: { level: 'default' } } });
    expect(await w.services.policies.list(w.admin, w.accountId)).toEqual([]);
  });
});
