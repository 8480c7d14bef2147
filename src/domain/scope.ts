/** account > organization > project. Every entity lives in exactly one scope. */
export interface Scope {
  accountId: string;
  orgId: string | null;
  projectId: string | null;
}

export type ScopeLevel = 'account' | 'organization' | 'project';

export function scopeLevel(s: Scope): ScopeLevel {
  if (s.projectId) return 'project';
  if (s.orgId) return 'organization';
  return 'account';
}

/** Normalises blank org/project to null, and drops a project without an org. */
export function makeScope(accountId: string, orgId?: string | null, projectId?: string | null): Scope {
  const org = orgId && orgId.trim() !== '' ? orgId : null;
  const project = org && projectId && projectId.trim() !== '' ? projectId : null;
  return { accountId, orgId: org, projectId: project };
}

/** True when `outer` is `inner` or one of its ancestors (account contains its orgs and projects). */
export function scopeContains(outer: Scope, inner: Scope): boolean {
  if (outer.accountId !== inner.accountId) return false;
  if (outer.orgId === null) return true;
  if (outer.orgId !== inner.orgId) return false;
  if (outer.projectId === null) return true;
  return outer.projectId === inner.projectId;
}

export function sameScope(a: Scope, b: Scope): boolean {
  return a.accountId === b.accountId && a.orgId === b.orgId && a.projectId === b.projectId;
}

/** The scope and its ancestors, innermost first. */
export function scopeChain(s: Scope): Scope[] {
  const chain: Scope[] = [s];
  if (s.projectId) chain.push({ accountId: s.accountId, orgId: s.orgId, projectId: null });
  if (s.orgId) chain.push({ accountId: s.accountId, orgId: null, projectId: null });
  return chain;
}

export function describeScope(s: Scope): string {
  return `account [${s.accountId}], org [${s.orgId ?? ''}], project [${s.projectId ?? ''}]`;
}
