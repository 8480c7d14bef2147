/**
 * The default workspace (ZenML 0.80 and later: the default project) and its default stack, which
 * ZenML's client and CLI read before anything else (BaseZenStore.validate_active_config, ZenML
 * 0.58 src/zenml/zen_stores/base_zen_store.py). Keyward manages credentials, not pipelines: these
 * are read-only, and every write answers ZenML's own IllegalOperationError (403).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUuid } from '../../domain/ids.js';
import type { Services } from '../../services/index.js';
import type { ZenmlComponent, ZenmlStack, ZenmlWorkspace } from '../../services/zenml.js';
import { zenmlCaller } from './auth.js';
import { detail, pyRepr, requestInvalid } from './errors.js';
import { applyListQuery, type FieldDef } from './filters.js';
import { componentModel, projectModel, stackModel, workspaceModel } from './models.js';

type Query = Record<string, string | string[] | undefined>;

const hydrateParam = (req: FastifyRequest) => {
  const v = (req.query as Query).hydrate;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return s === undefined ? true : ['true', '1', 'yes', 'on'].includes(s.toLowerCase());
};

const sameId = (a: string, b: string) => a.replace(/-/g, '').toLowerCase() === b.replace(/-/g, '').toLowerCase();

/** ZenML's 404 for a name or id that names no entity (SqlZenStore._get_schema_by_name_or_id). */
function notFoundByNameOrId(kind: 'workspace' | 'project', nameOrId: string, isId: boolean) {
  const msg = isId
    ? `Unable to get ${kind} with name or ID '${nameOrId}': No ${kind} with this ID found.`
    : `Unable to get ${kind} with name or ID '${nameOrId}': '${nameOrId}' is not a valid  UUID and no ${kind} with this name exists.`;
  return detail(404, 'KeyError', pyRepr(msg));
}

const readOnly = (message: string) => detail(403, 'IllegalOperationError', message);

const first = (q: Query, k: string) => {
  const v = q[k];
  return Array.isArray(v) ? v[v.length - 1] : v;
};

export function workspaceRoutes(app: FastifyInstance, services: Services): void {
  const z = services.zenml;
  const tw = ['zenml: workspaces and stacks (read-only)'];
  const param = (req: FastifyRequest, k: string) => (req.params as Record<string, string>)[k]!;

  const wsFields: Record<string, FieldDef<ZenmlWorkspace>> = {
    id: { type: 'uuid', get: (r) => r.id },
    created: { type: 'datetime', get: (r) => r.createdAt },
    updated: { type: 'datetime', get: (r) => r.updatedAt },
    name: { type: 'str', get: (r) => r.name },
  };
  const projectFields: Record<string, FieldDef<ZenmlWorkspace>> = { ...wsFields, display_name: { type: 'str', get: () => 'Default' } };

  async function workspaceFor(req: FastifyRequest, kind: 'workspace' | 'project', key = 'nameOrId'): Promise<ZenmlWorkspace> {
    const { accountId } = await zenmlCaller(services, req);
    const ws = await z.defaultWorkspace(accountId);
    const nameOrId = param(req, key);
    const isId = isUuid(nameOrId);
    if (isId ? !sameId(nameOrId, ws.id) : nameOrId !== ws.name) throw notFoundByNameOrId(kind, nameOrId, isId);
    return ws;
  }

  const page = <T, M>(rows: T[], req: FastifyRequest, fields: Record<string, FieldDef<T>>, render: (r: T, hydrate: boolean) => M, query?: Query) => {
    const r = applyListQuery(rows, query ?? (req.query as Query), fields, { hydrateDefault: false });
    return { index: r.page.page, max_size: r.page.size, total_pages: r.totalPages, total: r.total, items: r.items.map((x) => render(x, r.page.hydrate)) };
  };

  // ---- workspaces (ZenML up to 0.7x) ----

  app.get('/workspaces', { schema: { tags: tw, summary: 'List workspaces: the account\'s one default workspace' } }, async (req) => {
    const { accountId } = await zenmlCaller(services, req);
    return page([await z.defaultWorkspace(accountId)], req, wsFields, workspaceModel);
  });
  app.get('/workspaces/:nameOrId', { schema: { tags: tw, summary: 'Get the default workspace by name or id' } }, async (req) =>
    workspaceModel(await workspaceFor(req, 'workspace'), hydrateParam(req)),
  );
  app.post('/workspaces', { schema: { tags: tw, summary: 'Refused: Keyward serves one default workspace per account' } }, async (req) => {
    await zenmlCaller(services, req);
    throw readOnly('Keyward serves one default workspace per account; workspaces cannot be created.');
  });
  app.put('/workspaces/:nameOrId', { schema: { tags: tw, summary: 'Refused: the default workspace is read-only' } }, async (req) => {
    await workspaceFor(req, 'workspace');
    throw readOnly('The default workspace cannot be modified.');
  });
  app.delete('/workspaces/:nameOrId', { schema: { tags: tw, summary: 'Refused: the default workspace cannot be deleted' } }, async (req) => {
    await workspaceFor(req, 'workspace');
    throw readOnly('The default workspace cannot be deleted.');
  });

  // ---- projects (ZenML 0.80 and later: workspaces renamed; the same entity and id) ----

  app.get('/projects', { schema: { tags: tw, summary: 'List projects: the account\'s one default project' } }, async (req) => {
    const { accountId } = await zenmlCaller(services, req);
    return page([await z.defaultWorkspace(accountId)], req, projectFields, projectModel);
  });
  app.get('/projects/:nameOrId', { schema: { tags: tw, summary: 'Get the default project by name or id' } }, async (req) =>
    projectModel(await workspaceFor(req, 'project'), hydrateParam(req)),
  );
  app.post('/projects', { schema: { tags: tw, summary: 'Refused: Keyward serves one default project per account' } }, async (req) => {
    await zenmlCaller(services, req);
    throw readOnly('Keyward serves one default project per account; projects cannot be created.');
  });
  app.put('/projects/:nameOrId', { schema: { tags: tw, summary: 'Refused: the default project is read-only' } }, async (req) => {
    await workspaceFor(req, 'project');
    throw readOnly('The default project cannot be modified.');
  });
  app.delete('/projects/:nameOrId', { schema: { tags: tw, summary: 'Refused: the default project cannot be deleted' } }, async (req) => {
    await workspaceFor(req, 'project');
    throw readOnly('The default project cannot be deleted.');
  });

  // ---- the default stack and its components ----

  const stackFields: Record<string, FieldDef<ZenmlStack>> = {
    id: { type: 'uuid', get: (r) => r.id },
    created: { type: 'datetime', get: (r) => r.workspace.createdAt },
    updated: { type: 'datetime', get: (r) => r.workspace.updatedAt },
    name: { type: 'str', get: (r) => r.name },
    description: { type: 'str', get: (r) => r.description },
    workspace_id: { type: 'uuid', get: (r) => r.workspace.id },
    user_id: { type: 'uuid', get: () => null },
  };
  const componentFields: Record<string, FieldDef<ZenmlComponent>> = {
    id: { type: 'uuid', get: (r) => r.id },
    created: { type: 'datetime', get: (r) => r.workspace.createdAt },
    updated: { type: 'datetime', get: (r) => r.workspace.updatedAt },
    name: { type: 'str', get: (r) => r.name },
    flavor: { type: 'str', get: (r) => r.flavor },
    type: { type: 'str', get: (r) => r.type },
    workspace_id: { type: 'uuid', get: (r) => r.workspace.id },
    user_id: { type: 'uuid', get: () => null },
    connector_id: { type: 'uuid', get: () => null },
  };

  /** A path id that is no UUID is FastAPI's request-validation error, as in ZenML. */
  const uuidParam = (req: FastifyRequest, name: string) => {
    const id = param(req, 'id');
    if (!isUuid(id)) throw requestInvalid(`${name}: value is not a valid uuid`);
    return id;
  };
  const stackOf = async (req: FastifyRequest) => {
    const { accountId } = await zenmlCaller(services, req);
    return z.defaultStack(accountId);
  };
  const stackNotFound = (id: string) => detail(404, 'KeyError', pyRepr(`Stack with ID ${id} not found.`));
  const componentNotFound = (id: string) => detail(404, 'KeyError', pyRepr(`Stack component with ID ${id} not found.`));

  // Relationship filters (StackFilter.component_id, ComponentFilter.stack_id and scope_type) are
  // applied here, as ZenML applies them outside the field filters.
  const listStacks = async (req: FastifyRequest) => {
    if ((req.params as Record<string, string>).ws !== undefined) await workspaceFor(req, 'workspace', 'ws');
    const stack = await stackOf(req);
    const query = { ...(req.query as Query) };
    const componentId = first(query, 'component_id');
    delete query.component_id;
    delete query.scope_workspace;
    delete query.scope_user;
    const rows = componentId === undefined || stack.components.some((c) => sameId(c.id, componentId)) ? [stack] : [];
    return page(rows, req, stackFields, stackModel, query);
  };
  const listComponents = async (req: FastifyRequest) => {
    if ((req.params as Record<string, string>).ws !== undefined) await workspaceFor(req, 'workspace', 'ws');
    const stack = await stackOf(req);
    const query = { ...(req.query as Query) };
    const stackId = first(query, 'stack_id');
    const scopeType = first(query, 'scope_type');
    for (const k of ['stack_id', 'scope_type', 'scope_workspace', 'scope_user']) delete query[k];
    let rows = stack.components;
    if (stackId !== undefined && !sameId(stackId, stack.id)) rows = [];
    if (scopeType !== undefined) rows = rows.filter((c) => c.type === scopeType);
    return page(rows, req, componentFields, componentModel, query);
  };

  app.get('/stacks', { schema: { tags: tw, summary: 'List stacks: the default stack' } }, listStacks);
  app.get('/workspaces/:ws/stacks', { schema: { tags: tw, summary: 'List the workspace\'s stacks: the default stack' } }, listStacks);
  app.get('/stacks/:id', { schema: { tags: tw, summary: 'Get the default stack by id' } }, async (req) => {
    const stack = await stackOf(req);
    const id = uuidParam(req, 'stack_id');
    if (!sameId(id, stack.id)) throw stackNotFound(id);
    return stackModel(stack, hydrateParam(req));
  });
  app.get('/components', { schema: { tags: tw, summary: 'List stack components: the default stack\'s' } }, listComponents);
  app.get('/workspaces/:ws/components', { schema: { tags: tw, summary: 'List the workspace\'s stack components' } }, listComponents);
  app.get('/components/:id', { schema: { tags: tw, summary: 'Get a component of the default stack by id' } }, async (req) => {
    const stack = await stackOf(req);
    const id = uuidParam(req, 'component_id');
    const c = stack.components.find((x) => sameId(x.id, id));
    if (!c) throw componentNotFound(id);
    return componentModel(c, hydrateParam(req));
  });

  const refuse = (message: string) => async (req: FastifyRequest) => {
    await zenmlCaller(services, req);
    throw readOnly(message);
  };
  const stacksReadOnly = 'Keyward serves only the default stack, which cannot be modified; stacks cannot be registered, updated or deleted.';
  const componentsReadOnly = 'Keyward serves only the default stack\'s components, which cannot be modified; components cannot be registered, updated or deleted.';
  for (const url of ['/stacks', '/workspaces/:ws/stacks']) app.post(url, { schema: { tags: tw, summary: 'Refused: stacks are read-only' } }, refuse(stacksReadOnly));
  app.put('/stacks/:id', { schema: { tags: tw, summary: 'Refused: the default stack cannot be modified' } }, refuse('The default stack cannot be modified.'));
  app.delete('/stacks/:id', { schema: { tags: tw, summary: 'Refused: the default stack cannot be deleted' } }, refuse('The default stack cannot be deleted.'));
  for (const url of ['/components', '/workspaces/:ws/components']) app.post(url, { schema: { tags: tw, summary: 'Refused: components are read-only' } }, refuse(componentsReadOnly));
  app.put('/components/:id', { schema: { tags: tw, summary: 'Refused: the default components cannot be modified' } }, refuse(componentsReadOnly));
  app.delete('/components/:id', { schema: { tags: tw, summary: 'Refused: the default components cannot be deleted' } }, refuse(componentsReadOnly));
}
