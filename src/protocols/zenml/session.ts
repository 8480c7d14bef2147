/** `/login`, `/logout`, `/current-user`, `/info` and `/users/{id}` (docs/compat/zenml.md). */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isKeywardError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import { parseToken } from '../../domain/tokens.js';
import type { Services } from '../../services/index.js';
import { clientOf } from '../auth/index.js';
import { cookieName, keyFailure, zenmlCaller } from './auth.js';
import { credentialsNotValid, detail, plain, pyRepr } from './errors.js';
import { serviceAccountAsUser, userIdToUuid, userModel, uuidToUserId } from './models.js';
import { zenml } from './contracts.js';
import type { ContractApp } from '../contract/index.js';

export interface ZenmlOptions {
  /** The version /info reports; ZenML clients warn when it differs from theirs. */
  serverVersion: string;
  /** Session lifetime; null: sessions do not expire (ZenML's default). */
  jwtExpireMinutes: number | null;
  /** Keyward's public URL (KEYWARD_PUBLIC_URL); /info reports it as server_url and dashboard_url, else "". */
  publicUrl?: string | null;
}

const GRANTS = ['password', 'urn:ietf:params:oauth:grant-type:device_code', 'zenml-external', 'zenml-api-key'];

export function sessionRoutes(app: ContractApp, services: Services, opts: ZenmlOptions): void {
  const t = ['zenml: sessions'];

  async function respond(reply: FastifyReply, sub: string, extra: Record<string, unknown>) {
    const ttl = opts.jwtExpireMinutes === null ? null : opts.jwtExpireMinutes * 60_000;
    const jwt = await services.sessions.issue(sub, extra, ttl);
    const serverId = await services.sessions.serverId();
    reply.header('set-cookie', `${cookieName(serverId)}=${jwt}; Path=/; HttpOnly; SameSite=Lax${ttl === null ? '' : `; Max-Age=${Math.floor(ttl / 1000)}`}`);
    reply.header('cache-control', 'no-store');
    return {
      access_token: jwt,
      token_type: 'bearer',
      expires_in: ttl === null ? null : Math.floor(ttl / 1000),
      refresh_token: null,
      scope: null,
      csrf_token: null,
    };
  }

  app.post('/login', { schema: { tags: t, summary: 'Log in with an API key (grant zenml-api-key) or an email and password (grant password)', ...zenml.login } }, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | undefined>;
    let grant = form.grant_type || undefined;
    if (!grant) grant = form.username ? 'password' : form.password ? 'zenml-api-key' : 'password';
    if (!GRANTS.includes(grant) || grant === 'zenml-external' || grant.startsWith('urn:')) throw plain(400, `Unsupported grant type: ${grant}`);

    if (grant === 'zenml-api-key') {
      const key = form.password;
      if (!key) throw plain(400, 'API key is required.');
      const parsed = parseToken(key);
      const client = clientOf(req);
      const v = await services.verification.verify(key, client);
      const keyId = parsed.format === 'zenml' ? parsed.keyId : '';
      const meta = { ...client, requestId: String(req.id) };
      if (parsed.format !== 'zenml') {
        await services.zenml.recordKeyLoginFailure(null, 'malformed', meta);
        throw credentialsNotValid('error decoding API key');
      }
      if (!v.valid) {
        await services.zenml.recordKeyLoginFailure(keyId, v.reason, meta);
        // ZenML names the key's service account when the key or the account is inactive.
        const inactive = v.reason === 'key_inactive' || v.reason === 'principal_inactive';
        const saId = inactive ? await services.zenml.keyOwner(keyId) : null;
        throw credentialsNotValid(keyFailure(v.reason, keyId, saId));
      }
      services.usage.recordKeyLogin(v.apiKeyId, services.ctx.clock.now());
      return respond(reply, v.principal.id, { api_key_id: v.apiKeyId });
    }

    // Password grant: Keyward users (service accounts have no password and never log in this way).
    try {
      const user = await services.users.authenticate(form.username ?? '', form.password ?? '', { ...clientOf(req), client: 'zenml', requestId: String(req.id) });
      return respond(reply, userIdToUuid(user.id), {});
    } catch (e) {
      if (isKeywardError(e) && e.kind === 'unauthenticated') throw credentialsNotValid('invalid username or password');
      throw e;
    }
  });

  app.post('/logout', { schema: { tags: t, summary: 'Log out: clears the session cookie', ...zenml.logout } }, async (_req, reply) => {
    const serverId = await services.sessions.serverId();
    reply.header('set-cookie', `${cookieName(serverId)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return null;
  });

  app.get('/current-user', { schema: { tags: t, summary: 'The authenticated user or service account, as a ZenML user', ...zenml.currentUser } }, async (req) => {
    const { caller } = await zenmlCaller(services, req);
    const me = await services.zenml.whoAmI(caller.actor);
    if (me?.type === 'SERVICE_ACCOUNT') {
      if (!me.serviceAccount) throw credentialsNotValid('the service account no longer exists');
      return serviceAccountAsUser(me.serviceAccount);
    }
    if (me?.type === 'USER') {
      if (!me.user) throw credentialsNotValid('the user no longer exists');
      return userModel(me.user, me.canManageUsers);
    }
    throw credentialsNotValid('no user');
  });

  app.get('/users/:id', { schema: { tags: t, summary: 'A user or service account by id (service accounts by UUID only)', ...zenml.user } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const id = req.params.id;
    const notFound = () => detail(404, 'KeyError', pyRepr(`No user with the '${id}' name or ID was found`));
    if (!isUuid(id)) throw notFound();
    try {
      const found = await services.zenml.readUser(caller, accountId, id.toLowerCase(), uuidToUserId(id.toLowerCase()));
      if ('serviceAccount' in found) return serviceAccountAsUser(found.serviceAccount);
      return userModel(found.user, found.canManageUsers);
    } catch (e) {
      if (isKeywardError(e) && e.kind === 'not_found') throw notFound();
      throw e;
    }
  });

  app.get('/info', { schema: { tags: t, summary: 'Server information (ZenML ServerModel)', ...zenml.info } }, async () => {
    const serverId = await services.sessions.serverId();
    return {
      id: serverId,
      version: opts.serverVersion,
      debug: false,
      deployment_type: 'other',
      // ZenML knows sqlite and mysql only; a Keyward on PostgreSQL reports the nearest, mysql.
      database_type: services.ctx.store.dialect === 'sqlite' ? 'sqlite' : 'mysql',
      secrets_store_type: 'none',
      auth_scheme: 'OAUTH2_PASSWORD_BEARER',
      // ZenML's ServerModel declares both as str (its server sends `server_url or ""`): never null.
      server_url: opts.publicUrl ?? '',
      dashboard_url: opts.publicUrl ?? '',
      analytics_enabled: false,
      metadata: { server: 'keyward' },
      use_legacy_dashboard: false,
      last_user_activity: null,
    };
  });
}
