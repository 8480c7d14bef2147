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
import { applyListQuery, lastValue, type FieldDef, type Query } from './filters.js';
import { componentModel, projectModel, stackModel, workspaceModel } from './models.js';
import { zenml } from './contracts.js';
import type { ContractApp } from '../contract/index.js';


const hydrateParam = (query: Query) => {
  const s = lastValue(query, 'hydrate');
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


export function workspaceRoutes(app: ContractApp, services: Services): void {
  const z = services.zenml;
  const tw = ['zenml: workspaces and stacks (read-only)'];

  const wsFields: Record<string, FieldDef<ZenmlWorkspace>> = {
    id: { type: 'uuid', get: (r) => r.id },
    created: { type: 'datetime', get: (r) => r.createdAt },
    updated: { type: 'datetime', get: (r) => r.updatedAt },
    name: { type: 'str', get: (r) => r.name },
  };
  const projectFields: Record<string, FieldDef<ZenmlWorkspace>> = { ...wsFields, display_name: { type: 'str', get: () => 'Default' } };

  async function workspaceFor(req: FastifyRequest, kind: 'workspace' | 'project', nameOrId: string): Promise<ZenmlWorkspace> {
    const { accountId } = await zenmlCaller(services, req);
    const ws = await z.defaultWorkspace(accountId);
    const isId = isUuid(nameOrId);
    if (isId ? !sameId(nameOrId, ws.id) : nameOrId !== ws.name) throw notFoundByNameOrId(kind, nameOrId, isId);
    return ws;
  }

  const page = <T, M>(rows: T[], query: Query, fields: Record<string, FieldDef<T>>, render: (r: T, hydrate: boolean) => M) => {
    const r = applyListQuery(rows, query, fields, { hydrateDefault: false });
    return { index: r.page.page, max_size: r.page.size, total_pages: r.totalPages, total: r.total, items: r.items.map((x) => render(x, r.page.hydrate)) };
  };

  // ---- workspaces (ZenML up to 0.7x) and projects (ZenML 0.80 and later: workspaces renamed; the same entity and id) ----

  const kinds = [
    { kind: 'workspace', path: '/workspaces', fields: wsFields, model: workspaceModel },
    { kind: 'project', path: '/projects', fields: projectFields, model: projectModel },
  ] as const;
  for (const { kind, path, fields, model } of kinds) {
    app.get(path, { schema: { tags: tw, summary: `List ${kind}s: the account's one default ${kind}`, ...zenml.listWorkspaces } }, async (req) => {
      const { accountId } = await zenmlCaller(services, req);
      return page([await z.defaultWorkspace(accountId)], req.query, fields, model);
    });
    app.get(`${path}/:nameOrId`, { schema: { tags: tw, summary: `Get the default ${kind} by name or id`, ...zenml.getWorkspace } }, async (req) =>
      model(await workspaceFor(req, kind, req.params.nameOrId), hydrateParam(req.query)),
    );
    app.post(path, { schema: { tags: tw, summary: `Refused: Keyward serves one default ${kind} per account`, ...zenml.refuseCreate } }, async (req) => {
      await zenmlCaller(services, req);
      throw readOnly(`Keyward serves one default ${kind} per account; ${kind}s cannot be created.`);
    });
    app.put(`${path}/:nameOrId`, { schema: { tags: tw, summary: `Refused: the default ${kind} is read-only`, ...zenml.refuseUpdate('nameOrId') } }, async (req) => {
      await workspaceFor(req, kind, req.params.nameOrId);
      throw readOnly(`The default ${kind} cannot be modified.`);
    });
    app.delete(`${path}/:nameOrId`, { schema: { tags: tw, summary: `Refused: the default ${kind} cannot be deleted`, ...zenml.refuseDelete('nameOrId') } }, async (req) => {
      await workspaceFor(req, kind, req.params.nameOrId);
      throw readOnly(`The default ${kind} cannot be deleted.`);
    });
  }

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
  const uuidParam = (id: string, name: string) => {
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
  const listStacks = async (req: FastifyRequest, reqQuery: Query, ws?: string) => {
    if (ws !== undefined) await workspaceFor(req, 'workspace', ws);
    const stack = await stackOf(req);
    const query = { ...reqQuery };
    const componentId = lastValue(query, 'component_id');
    delete query.component_id;
    delete query.scope_workspace;
    delete query.scope_user;
    const rows = componentId === undefined || stack.components.some((c) => sameId(c.id, componentId)) ? [stack] : [];
    return page(rows, query, stackFields, stackModel);
  };
  const listComponents = async (req: FastifyRequest, reqQuery: Query, ws?: string) => {
    if (ws !== undefined) await workspaceFor(req, 'workspace', ws);
    const stack = await stackOf(req);
    const query = { ...reqQuery };
    const stackId = lastValue(query, 'stack_id');
    const scopeType = lastValue(query, 'scope_type');
    for (const k of ['stack_id', 'scope_type', 'scope_workspace', 'scope_user']) delete query[k];
    let rows = stack.components;
    if (stackId !== undefined && !sameId(stackId, stack.id)) rows = [];
    if (scopeType !== undefined) rows = rows.filter((c) => c.type === scopeType);
    return page(rows, query, componentFields, componentModel);
  };

  app.get('/stacks', { schema: { tags: tw, summary: 'List stacks: the default stack', ...zenml.listStacks } }, (req) => listStacks(req, req.query));
  app.get('/workspaces/:ws/stacks', { schema: { tags: tw, summary: 'List the workspace\'s stacks: the default stack', ...zenml.listStacksIn } }, (req) => listStacks(req, req.query, req.params.ws));
  app.get('/stacks/:id', { schema: { tags: tw, summary: 'Get the default stack by id', ...zenml.getStack } }, async (req) => {
    const stack = await stackOf(req);
    const id = uuidParam(req.params.id, 'stack_id');
    if (!sameId(id, stack.id)) throw stackNotFound(id);
    return stackModel(stack, hydrateParam(req.query));
  });
  app.get('/components', { schema: { tags: tw, summary: 'List stack components: the default stack\'s', ...zenml.listComponents } }, (req) => listComponents(req, req.query));
  app.get('/workspaces/:ws/components', { schema: { tags: tw, summary: 'List the workspace\'s stack components', ...zenml.listComponentsIn } }, (req) => listComponents(req, req.query, req.params.ws));
  app.get('/components/:id', { schema: { tags: tw, summary: 'Get a component of the default stack by id', ...zenml.getComponent } }, async (req) => {
    const stack = await stackOf(req);
    const id = uuidParam(req.params.id, 'component_id');
    const c = stack.components.find((x) => sameId(x.id, id));
    if (!c) throw componentNotFound(id);
    return componentModel(c, hydrateParam(req.query));
  });

  const refuse = (message: string) => async (req: FastifyRequest) => {
    await zenmlCaller(services, req);
    throw readOnly(message);
  };
  const stacksReadOnly = 'Keyward serves only the default stack, which cannot be modified; stacks cannot be registered, updated or deleted.';
  const componentsReadOnly = 'Keyward serves only the default stack\'s components, which cannot be modified; components cannot be registered, updated or deleted.';
  app.post('/stacks', { schema: { tags: tw, summary: 'Refused: stacks are read-only', ...zenml.refuseCreate } }, refuse(stacksReadOnly));
  app.post('/workspaces/:ws/stacks', { schema: { tags: tw, summary: 'Refused: stacks are read-only', ...zenml.refuseCreateIn } }, refuse(stacksReadOnly));
  app.put('/stacks/:id', { schema: { tags: tw, summary: 'Refused: the default stack cannot be modified', ...zenml.refuseUpdate('id') } }, refuse('The default stack cannot be modified.'));
  app.delete('/stacks/:id', { schema: { tags: tw, summary: 'Refused: the default stack cannot be deleted', ...zenml.refuseDelete('id') } }, refuse('The default stack cannot be deleted.'));
  app.post('/components', { schema: { tags: tw, summary: 'Refused: components are read-only', ...zenml.refuseCreate } }, refuse(componentsReadOnly));
  app.post('/workspaces/:ws/components', { schema: { tags: tw, summary: 'Refused: components are read-only', ...zenml.refuseCreateIn } }, refuse(componentsReadOnly));
  app.put('/components/:id', { schema: { tags: tw, summary: 'Refused: the default components cannot be modified', ...zenml.refuseUpdate('id') } }, refuse(componentsReadOnly));
  app.delete('/components/:id', { schema: { tags: tw, summary: 'Refused: the default components cannot be deleted', ...zenml.refuseDelete('id') } }, refuse(componentsReadOnly));
}
