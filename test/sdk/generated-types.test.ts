/**
 * The SDK's API types are generated from Keyward's own OpenAPI document (npm run sdk:types,
 * scripts/sdk-types.ts): the committed file must be what generation gives now, so a route schema
 * change without regenerating fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_TYPES, generateSdkTypes } from '../../scripts/sdk-types.js';

describe('packages/sdk/src/generated/openapi.d.ts', () => {
  it('is up to date with the OpenAPI document (else run `npm run sdk:types`)', async () => {
    const fresh = await generateSdkTypes();
    expect(fresh).toContain('"/v1/accounts/{accountId}/invalidations"');
    expect(fresh).toContain('"/v1/verify"');
    const committed = readFileSync(GENERATED_TYPES, 'utf8');
    expect(committed === fresh, 'packages/sdk/src/generated/openapi.d.ts is stale: run `npm run sdk:types`').toBe(true);
  }, 120_000);
});
