/** Keyward entities rendered as Harness NG DTOs, fields in the order Harness declares them. */
import type { ApiKey, ServiceAccount, Token } from '../../domain/model.js';
import { tokenExpiry, tokenIsValid } from '../../domain/model.js';
import { nullIfEmpty } from './context.js';

export function apiKeyDto(k: ApiKey) {
  return {
    identifier: k.identifier,
    name: k.name,
    description: nullIfEmpty(k.description),
    tags: k.tags,
    apiKeyType: k.type,
    parentIdentifier: k.parentIdentifier,
    defaultTimeToExpireToken: k.defaultTimeToExpireToken,
    accountIdentifier: k.scope.accountId,
    projectIdentifier: k.scope.projectId,
    orgIdentifier: k.scope.orgId,
  };
}

export function apiKeyAggregateDto(k: ApiKey & { tokensCount: number }) {
  return { apiKey: apiKeyDto(k), createdAt: k.createdAt, lastModifiedAt: k.updatedAt, tokensCount: k.tokensCount };
}

export function tokenDto(t: Token, now: number, extra: { email: string | null; username: string | null } = { email: null, username: null }) {
  return {
    identifier: t.identifier,
    name: t.name,
    validFrom: t.validFrom,
    validTo: t.validTo,
    scheduledExpireTime: t.scheduledExpireTime,
    valid: tokenIsValid(t, now),
    accountIdentifier: t.scope.accountId,
    projectIdentifier: t.scope.projectId,
    orgIdentifier: t.scope.orgId,
    apiKeyIdentifier: t.apiKeyIdentifier,
    parentIdentifier: t.parentIdentifier,
    apiKeyType: t.apiKeyType,
    description: nullIfEmpty(t.description),
    tags: t.tags,
    email: extra.email,
    username: extra.username,
    encodedPassword: null,
  };
}

export function tokenAggregateDto(t: Token, now: number) {
  return { token: tokenDto(t, now), expiryAt: tokenExpiry(t), createdAt: t.createdAt, lastModifiedAt: t.updatedAt };
}

export function serviceAccountDto(sa: ServiceAccount) {
  return {
    identifier: sa.identifier,
    name: sa.name,
    email: sa.email,
    description: nullIfEmpty(sa.description),
    tags: sa.tags,
    accountIdentifier: sa.scope.accountId,
    orgIdentifier: sa.scope.orgId,
    projectIdentifier: sa.scope.projectId,
  };
}
