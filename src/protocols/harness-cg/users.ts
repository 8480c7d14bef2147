/**
 * CG GraphQL users, as harness-core `400-rest/src/main/resources/graphql/public/user.graphql`
 * declares them: what the Go SDK's `cd.UserClient` calls for users, and `User.userGroups`, which its
 * `IsUserInGroup` reads. Keyward's users have no e-mail verification, 2FA, lockout or identity
 * provider: those flags are false (`isUserLocked` is a deactivated user) and `externalUserId` is null.
 */
import type { User } from '../../domain/model.js';
import type { GqlContext } from './context.js';
import { pageArgs, pageInfo, renderGroup, renderUser, type RenderedUser } from './render.js';

export const userSchema = /* GraphQL */ `
extend type Mutation {
  createUser(input: CreateUserInput!): CreateUserPayload
  updateUser(input: UpdateUserInput!): UpdateUserPayload
  deleteUser(input: DeleteUserInput!): DeleteUserPayload
}

extend type Query {
  user(id: String!): User
  users(limit: Int!, offset: Int): UserConnection
  userByName(name: String!): User
  userByEmail(email: String!): User
}

input CreateUserInput {
  clientMutationId: String
  name: String!
  email: String!
  userGroupIds: [String!]
  externalUserId: String
}

type CreateUserPayload {
  clientMutationId: String
  user: User
}

input UpdateUserInput {
  clientMutationId: String
  id: String!
  name: String
  userGroupIds: [String!]
  externalUserId: String
}

type UpdateUserPayload {
  clientMutationId: String
  user: User
}

input DeleteUserInput {
  clientMutationId: String
  id: String!
}

type DeleteUserPayload {
  clientMutationId: String
}

type User {
  id: String
  name: String
  email: String
  isEmailVerified: Boolean
  isTwoFactorAuthenticationEnabled: Boolean
  isUserLocked: Boolean
  isPasswordExpired: Boolean
  isImportedFromIdentityProvider: Boolean
  externalUserId: String
  userGroups(limit: Int!, offset: Int): UserGroupConnection
}

type UserConnection {
  pageInfo: PageInfo
  nodes: [User]
}
`;

type Input = { clientMutationId?: string | null; id?: string; name?: string | null; email?: string; userGroupIds?: string[] | null };

const echo = (input: { clientMutationId?: string | null }) => ({ clientMutationId: input.clientMutationId ?? null });

export const userResolvers = {
  Mutation: {
    async createUser(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const user = await ctx.services.cgUsers.create(ctx.cg.caller, ctx.cg.accountId, { email: input.email!, name: input.name!, userGroupIds: input.userGroupIds ?? null });
      return { ...echo(input), user: renderUser(user) };
    },
    async updateUser(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      const user = await ctx.services.cgUsers.update(ctx.cg.caller, ctx.cg.accountId, input.id!, { name: input.name ?? null, userGroupIds: input.userGroupIds ?? null });
      return { ...echo(input), user: renderUser(user) };
    },
    async deleteUser(_: unknown, { input }: { input: Input }, ctx: GqlContext) {
      await ctx.services.cgUsers.delete(ctx.cg.caller, ctx.cg.accountId, input.id!);
      return echo(input);
    },
  },
  Query: {
    async user(_: unknown, { id }: { id: string }, ctx: GqlContext) {
      return renderUser(await ctx.services.cgUsers.get(ctx.cg.caller, ctx.cg.accountId, id));
    },
    async userByName(_: unknown, { name }: { name: string }, ctx: GqlContext) {
      const u = await ctx.services.cgUsers.getByName(ctx.cg.caller, ctx.cg.accountId, name);
      return u ? renderUser(u) : null;
    },
    async userByEmail(_: unknown, { email }: { email: string }, ctx: GqlContext) {
      const u = await ctx.services.cgUsers.getByEmail(ctx.cg.caller, ctx.cg.accountId, email);
      return u ? renderUser(u) : null;
    },
    async users(_: unknown, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const page = await ctx.services.users.list(ctx.cg.caller, ctx.cg.accountId, { offset, limit });
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items.map(renderUser) };
    },
  },
  User: {
    async userGroups(u: RenderedUser, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const page = await ctx.services.userGroups.groupsOfUser(ctx.cg.caller, u.accountId, u.id, { offset, limit });
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items.map(renderGroup) };
    },
  },
};
