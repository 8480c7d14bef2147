/**
 * CG GraphQL API keys: Harness's `createApiKey`, `updateApiKey`, `deleteApiKey` (schema from
 * harness-core `400-rest/src/main/resources/graphql/public/apiKey.graphql`, docs/compat/harness-cg.md), and
 * Keyward's `apiKey(uuid)` / `apiKeys(limit, offset)` queries, which return metadata and groups,
 * never the key's value.
 */
import { PermissionDeniedError } from '../../domain/errors.js';
import type { CgApiKey } from '../../domain/model.js';
import type { GqlContext } from './context.js';
import { pageArgs, pageInfo, renderGroup } from './render.js';

export const apiKeySchema = /* GraphQL */ `
extend type Mutation {
  "Create an ApiKey. The key's value is not returned: read it with CG REST GET /api/api-keys/{uuid}."
  createApiKey(input: CreateApiKeyInput!): CreateApiKeyPayload
  "Update an ApiKey"
  updateApiKey(input: UpdateApiKeyInput!): UpdateApiKeyPayload
  "Delete an ApiKey"
  deleteApiKey(input: DeleteApiKeyInput!): DeleteApiKeyPayload
}

extend type Query {
  "Keyward: one API key of the account, without its value."
  apiKey(uuid: String!): APIKey
  "Keyward: the account's API keys, oldest first, without their values."
  apiKeys(limit: Int!, offset: Int): APIKeyConnection
}

input CreateApiKeyInput {
  accountId: String!
  name: String!
  userGroupIds: [String]
  clientMutationId: String
}

type CreateApiKeyPayload {
  clientMutationId: String
  name: String
  uuid: String
}

input UpdateApiKeyInput {
  accountId: String!
  name: String!
  userGroupIds: [String]
  clientMutationId: String
  uuid: String!
}

type UpdateApiKeyPayload {
  clientMutationId: String
  name: String
  uuid: String
}

input DeleteApiKeyInput {
  accountId: String!
  clientMutationId: String
  uuid: String!
}

type DeleteApiKeyPayload {
  clientMutationId: String
}

"Harness's APIKey (administration.graphql: id, name), with Keyward's metadata fields."
type APIKey {
  id: String
  uuid: String
  name: String
  accountId: String
  createdAt: DateTime
  userGroupIds: [String]
  userGroups: [UserGroup]
}

type APIKeyConnection {
  pageInfo: PageInfo
  nodes: [APIKey]
}
`;

interface KeyInput {
  accountId: string;
  name?: string;
  userGroupIds?: Array<string | null> | null;
  clientMutationId?: string | null;
  uuid?: string;
}

/** The input's account must be the caller's: a key never acts in another account. */
function account(ctx: GqlContext, input: KeyInput): string {
  if (input.accountId !== ctx.cg.accountId) throw new PermissionDeniedError(`Not authorized for account [${input.accountId}]`);
  return input.accountId;
}

const echo = (input: KeyInput) => ({ clientMutationId: input.clientMutationId ?? null });

export const apiKeyResolvers = {
  Mutation: {
    async createApiKey(_: unknown, { input }: { input: KeyInput }, ctx: GqlContext) {
      const { key } = await ctx.services.cgApiKeys.create(ctx.cg.caller, account(ctx, input), { name: input.name, userGroupIds: input.userGroupIds ?? null });
      return { ...echo(input), name: key.name, uuid: key.id };
    },
    async updateApiKey(_: unknown, { input }: { input: KeyInput }, ctx: GqlContext) {
      const key = await ctx.services.cgApiKeys.update(ctx.cg.caller, account(ctx, input), input.uuid!, { name: input.name ?? null, userGroupIds: input.userGroupIds ?? null });
      return { ...echo(input), name: key.name, uuid: key.id };
    },
    async deleteApiKey(_: unknown, { input }: { input: KeyInput }, ctx: GqlContext) {
      await ctx.services.cgApiKeys.delete(ctx.cg.caller, account(ctx, input), input.uuid!);
      return echo(input);
    },
  },
  Query: {
    async apiKey(_: unknown, { uuid }: { uuid: string }, ctx: GqlContext) {
      return (await ctx.services.cgApiKeys.get(ctx.cg.caller, ctx.cg.accountId, uuid, false)).key;
    },
    async apiKeys(_: unknown, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const page = await ctx.services.cgApiKeys.list(ctx.cg.caller, ctx.cg.accountId, offset, limit);
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items };
    },
  },
  APIKey: {
    uuid: (k: CgApiKey) => k.id,
    async userGroups(k: CgApiKey, _: unknown, ctx: GqlContext) {
      const out = [];
      for (const id of k.userGroupIds) out.push(renderGroup((await ctx.services.userGroups.get(ctx.cg.caller, { accountId: k.accountId, id })).group));
      return out;
    },
  },
};
