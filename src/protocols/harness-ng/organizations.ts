/**
 * `/organizations` and `/projects`, as Harness's Go SDK and the Terraform resources
 * harness_platform_organization and harness_platform_project use them (docs/compat/harness-ng-resources.md).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../domain/errors.js';
import type { Organization, Project } from '../../domain/model.js';
import type { Services } from '../../services/index.js';
import type { ProjectInput } from '../../services/scopes.js';
import { bodyObject, checkEntity, many, ngAuth, opt, pageResponse, paging, required, str, tags, violations } from './context.js';
import { NgError, failureBody, ngFailure, ngInvalidRequest, success } from './errors.js';
import { bodies, ngParams, ngQuery, ngResponses, organizationSchema, pageOf, projectSchema } from './contracts.js';
import { bool, type ContractApp } from '../contract/index.js';

/** Terraform removes a resource from its state on a read that answers 400 RESOURCE_NOT_FOUND_EXCEPTION. */
const readMiss = (req: FastifyRequest, message: string) => new NgError(400, failureBody(req, 'RESOURCE_NOT_FOUND_EXCEPTION', message, null));

function wrapped(req: FastifyRequest, key: 'organization' | 'project'): Record<string, unknown> {
  const b = bodyObject(req);
  const inner = b[key];
  if (inner === undefined || inner === null) throw ngFailure(req, [{ field: key, message: 'must not be null' }]);
  if (typeof inner !== 'object' || Array.isArray(inner)) throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  return inner as Record<string, unknown>;
}

function readOrg(req: FastifyRequest) {
  const o = wrapped(req, 'organization');
  const input = { identifier: str(o, 'identifier') ?? '', name: str(o, 'name') ?? '', description: str(o, 'description'), tags: tags(o) };
  const { v, add } = violations();
  checkEntity(add, input);
  if (v.length > 0) throw ngFailure(req, v);
  return input;
}

function readProject(req: FastifyRequest, orgFromQuery: string): ProjectInput {
  const p = wrapped(req, 'project');
  const modules = p.modules;
  if (modules !== undefined && modules !== null && (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string'))) {
    throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  }
  const input: ProjectInput = {
    identifier: str(p, 'identifier') ?? '',
    name: str(p, 'name') ?? '',
    description: str(p, 'description'),
    color: str(p, 'color'),
    tags: tags(p),
    modules: (modules as string[] | null | undefined) ?? null,
  };
  const { v, add } = violations();
  checkEntity(add, input);
  if (input.color && input.color.length > 64) add('color', 'size must be between 0 and 64');
  if (v.length > 0) throw ngFailure(req, v);
  const bodyOrg = str(p, 'orgIdentifier');
  if (bodyOrg && bodyOrg !== orgFromQuery) throw ngInvalidRequest(req, `Value mismatch, previous: ${orgFromQuery} current: ${bodyOrg}`);
  return input;
}

const orgResponse = (o: Organization) => ({
  organization: { identifier: o.identifier, name: o.name, description: o.description, tags: o.tags },
  createdAt: o.createdAt,
  lastModifiedAt: o.updatedAt,
  harnessManaged: false,
});

const projectResponse = (p: Project) => ({
  project: { orgIdentifier: p.orgId, identifier: p.identifier, name: p.name, color: p.color, modules: p.modules, description: p.description, tags: p.tags },
  createdAt: p.createdAt,
  lastModifiedAt: p.updatedAt,
  isFavorite: false,
});

/** Harness defaults a missing orgIdentifier to the account's `default` organization. */
const orgParam = (req: FastifyRequest) => opt(req, 'orgIdentifier') ?? 'default';

export function organizationRoutes(app: ContractApp, services: Services): void {
  const to = ['harness-ng: organizations'];
  const tp = ['harness-ng: projects'];

  app.post('/organizations', { schema: { tags: to, summary: 'Create an organization', body: bodies.organization!, querystring: ngQuery.scope, response: ngResponses(organizationSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    return success(req, orgResponse(await services.scopes.createOrganization(ctx.caller, ctx.accountId, readOrg(req))));
  });

  app.get('/organizations/:identifier', { schema: { tags: to, summary: 'Get an organization', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(organizationSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    try {
      return success(req, orgResponse(await services.scopes.getOrganization(ctx.caller, ctx.accountId, req.params.identifier)));
    } catch (e) {
      if (e instanceof NotFoundError) throw readMiss(req, `Organization with identifier [${req.params.identifier}] not found`);
      throw e;
    }
  });

  app.put('/organizations/:identifier', { schema: { tags: to, summary: 'Update an organization', params: ngParams.identifier, body: bodies.organization!, querystring: ngQuery.scope, response: ngResponses(organizationSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const input = readOrg(req);
    if (input.identifier !== req.params.identifier) throw ngInvalidRequest(req, `Organization identifier in the body [${input.identifier}] does not match the path [${req.params.identifier}]`);
    try {
      return success(req, orgResponse(await services.scopes.updateOrganization(ctx.caller, ctx.accountId, req.params.identifier, input)));
    } catch (e) {
      if (e instanceof NotFoundError) throw ngInvalidRequest(req, `Organization with identifier [${req.params.identifier}] not found`);
      throw e;
    }
  });

  app.delete('/organizations/:identifier', { schema: { tags: to, summary: 'Delete an organization and everything in it', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    await services.scopes.deleteOrganization(ctx.caller, ctx.accountId, req.params.identifier);
    return success(req, true);
  });

  app.get('/organizations', { schema: { tags: to, summary: 'List organizations, paged', querystring: ngQuery.paged, response: ngResponses(pageOf(organizationSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const p = paging(req);
    const sortGiven = many(req, 'sortOrders').length > 0;
    const page = await services.scopes.listOrganizations(ctx.caller, ctx.accountId, {
      offset: p.offset,
      limit: p.limit,
      identifiers: p.identifiers,
      search: p.search,
      sort: sortGiven ? p.sort : [{ field: 'name', desc: false }],
    });
    return success(req, pageResponse(page.items.map(orgResponse), page.total, p));
  });

  app.post('/projects', { schema: { tags: tp, summary: 'Create a project', body: bodies.project!, querystring: ngQuery.scope, response: ngResponses(projectSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const org = orgParam(req);
    return success(req, projectResponse(await services.scopes.createProject(ctx.caller, ctx.accountId, org, readProject(req, org))));
  });

  app.get('/projects/:identifier', { schema: { tags: tp, summary: 'Get a project', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(projectSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    try {
      return success(req, projectResponse(await services.scopes.getProject(ctx.caller, ctx.accountId, orgParam(req), req.params.identifier)));
    } catch (e) {
      if (e instanceof NotFoundError) throw readMiss(req, `Project with identifier [${req.params.identifier}] and orgIdentifier [${orgParam(req)}] not found`);
      throw e;
    }
  });

  app.put('/projects/:identifier', { schema: { tags: tp, summary: 'Update a project', params: ngParams.identifier, body: bodies.project!, querystring: ngQuery.scope, response: ngResponses(projectSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const org = orgParam(req);
    const input = readProject(req, org);
    if (input.identifier !== req.params.identifier) throw ngInvalidRequest(req, `Project identifier in the body [${input.identifier}] does not match the path [${req.params.identifier}]`);
    try {
      return success(req, projectResponse(await services.scopes.updateProject(ctx.caller, ctx.accountId, org, req.params.identifier, input)));
    } catch (e) {
      if (e instanceof NotFoundError) throw ngInvalidRequest(req, `Project with identifier [${req.params.identifier}] and orgIdentifier [${org}] not found`);
      throw e;
    }
  });

  app.delete('/projects/:identifier', { schema: { tags: tp, summary: 'Delete a project and everything in it', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    await services.scopes.deleteProject(ctx.caller, ctx.accountId, orgParam(req), req.params.identifier);
    return success(req, true);
  });

  const listProjects = async (req: FastifyRequest) => {
    const ctx = await ngAuth(services, req);
    const p = paging(req);
    const orgs = [...many(req, 'orgIdentifiers'), ...many(req, 'orgIdentifier')];
    const page = await services.scopes.listProjects(ctx.caller, ctx.accountId, orgs, { offset: p.offset, limit: p.limit, identifiers: p.identifiers, search: p.search, sort: p.sort });
    return success(req, pageResponse(page.items.map(projectResponse), page.total, p));
  };
  app.get('/projects', { schema: { tags: tp, summary: 'List projects, paged', querystring: ngQuery.projects, response: ngResponses(pageOf(projectSchema)) } }, listProjects);
  app.get('/projects/list', { schema: { tags: tp, summary: 'List projects of several organizations, paged', querystring: ngQuery.projects, response: ngResponses(pageOf(projectSchema)) } }, listProjects);
}
