/**
 * CG GraphQL user groups, as harness-core `400-rest/src/main/resources/graphql/public/userGroup.graphql`
 * declares them (docs/compat/harness-cg.md lists what is left out: SSO linking, notification
 * settings and CG's own permission model; permissions come from role assignments instead).
 */
import { InvalidArgumentError } from '../../domain/errors.js';
import type { UserGroup } from '../../domain/model.js';
import { getUser } from '../../store/users.js';
import type { GqlContext } from './graphql.js';

export const userGroupSchema = /* GraphQL */ `
extend type Mutation {
  createUserGroup(input: CreateUserGroupInput!): CreateUserGroupPayload
  updateUserGroup(input: UpdateUserGroupInput!): UpdateUserGroupPayload
  deleteUserGroup(input: DeleteUserGroupInput!): DeleteUserGroupPayload
  addUserToUserGroup(input: AddUserToUserGroupInput!): AddUserToUserGroupPayload
  removeUserFromUserGroup(input: RemoveUserFromUserGroupInput!): RemoveUserFromUserGroupPayload
}

extend type Query {
  userGroup(userGroupId: String!): UserGroup
  userGroups(limit: Int!, offset: Int): UserGroupConnection
  userGroupByName(name: String!): UserGroup
}

input CreateUserGroupInput {
  clientMutationId: String
  name: String!
  description: String
  userIds: [String]
}

input UpdateUserGroupInput {
  clientMutationId: String
  name: String
  userGroupId: String!
  description: String
  userIds: [String]
}

input DeleteUserGroupInput {
  clientMutationId: String
  userGroupId: String!
}

input AddUserToUserGroupInput {
  clientMutationId: String
  userGroupId: String!
  userId: String!
}

input RemoveUserFromUserGroupInput {
  clientMutationId: String
  userGroupId: String!
  userId: String!
}

type UserGroup {
  id: String
  name: String
  description: String
  users(limit: Int!, offset: Int): UserConnection
  importedByScim: Boolean
  isSSOLinked: Boolean
}

type UserGroupConnection {
  pageInfo: PageInfo
  nodes: [UserGroup]
}

type User {
  id: String
  name: String
  email: String
}

type UserConnection {
  pageInfo: PageInfo
  nodes: [User]
}

type CreateUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type UpdateUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type DeleteUserGroupPayload {
  clientMutationId: String
}

type AddUserToUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type RemoveUserFromUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}
`;

/** Harness connections take `limit` (required) and `offset`; Keyward caps a page at 100. */
export const MAX_PAGE = 100;

export function pageArgs(args: { limit: number; offset?: number | null }): { limit: number; offset: number } {
  if (args.limit < 0) throw InvalidArgumentError.field('limit', 'must be greater than or equal to 0');
  const offset = args.offset ?? 0;
  if (offset < 0) throw InvalidArgumentError.field('offset', 'must be greater than or equal to 0');
  return { limit: Math.min(args.limit, MAX_PAGE), offset };
}

/** framework.graphql's PageInfo { hasMore total offset limit }. */
export function pageInfo(total: number, offset: number, limit: number, count: number) {
  return { hasMore: offset + count < total, total, offset, limit };
}

interface RenderedGroup {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  importedByScim: boolean;
  isSSOLinked: boolean;
}

export function renderGroup(g: UserGroup): RenderedGroup {
  return { id: g.id, accountId: g.scope.accountId, name: g.name, description: g.description === '' ? null : g.description, importedByScim: false, isSSOLinked: false };
}

const echo = (input: { clientMutationId?: string | null }) => ({ clientMutationId: input.clientMutationId ?? null });

type Input = { clientMutationId?: string | null; name?: string | null; description?: string | null; userIds?: Array<string | null> | null; userGroupId?: string; userId?: string };

const ids = (v: Array<string | null> | null | undefined): string[] | null => (v == null ? null : v.filter((x): x is string => typeof x === 'string' && x !== ''));

export const userGroupResolvers = {
  Mutation: {
    async createUserGroup(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.create(ctx.cg.caller, { accountId: ctx.cg.accountId }, {
        name: input.name!,
        description: input.description ?? null,
        users: ids(input.userIds),
      });
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async updateUserGroup(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const patch: { name?: string; description?: string | null; users?: string[] | null } = {};
      if (input.name != null) patch.name = input.name;
      if (input.description !== undefined) patch.description = input.description;
      if (input.userIds != null) patch.users = ids(input.userIds);
      const { group } = await ctx.services.userGroups.update(ctx.cg.caller, { accountId: ctx.cg.accountId, id: input.userGroupId! }, patch);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async deleteUserGroup(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      await ctx.services.userGroups.delete(ctx.cg.caller, { accountId: ctx.cg.accountId, id: input.userGroupId! });
      return echo(input);
    },
    async addUserToUserGroup(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.setMembership(ctx.cg.caller, { accountId: ctx.cg.accountId, id: input.userGroupId! }, input.userId!, true);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async removeUserFromUserGroup(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.setMembership(ctx.cg.caller, { accountId: ctx.cg.accountId, id: input.userGroupId! }, input.userId!, false);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
  },
  Query: {
    async userGroup(_: unknown, { userGroupId }: { userGroupId: string }, ctx: GqlContext) {
      return renderGroup((await ctx.services.userGroups.get(ctx.cg.caller, { accountId: ctx.cg.accountId, id: userGroupId })).group);
    },
    async userGroupByName(_: unknown, { name }: { name: string }, ctx: GqlContext) {
      const found = await ctx.services.userGroups.getByName(ctx.cg.caller, ctx.cg.accountId, name);
      return found ? renderGroup(found.group) : null;
    },
    async userGroups(_: unknown, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const scope = { accountId: ctx.cg.accountId, orgId: null, projectId: null };
      const page = await ctx.services.userGroups.list(ctx.cg.caller, scope, { offset, limit });
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items.map((v) => renderGroup(v.group)) };
    },
  },
  UserGroup: {
    async users(g: RenderedGroup, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const { members } = await ctx.services.userGroups.get(ctx.cg.caller, { accountId: g.accountId, id: g.id });
      const nodes = [];
      for (const id of members.slice(offset, offset + limit)) {
        const u = await getUser(ctx.services.ctx.store.db, id);
        if (u) nodes.push({ id: u.id, name: u.name, email: u.email });
      }
      return { pageInfo: pageInfo(members.length, offset, limit, nodes.length), nodes };
    },
  },
};
