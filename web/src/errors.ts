/** Server answers that need more words than the wire gives: what went wrong and what to do. */
import type { ApiError, Owner } from './api';

/**
 * "Invalid request: Maximum limit has reached" names neither the limit nor how to raise it. The
 * console knows how many keys (or live tokens) the owner has where it looked, which is the limit.
 */
export function explainLimit(e: ApiError, c: { what: 'key' | 'token'; count: number; owner: Owner; rotating?: boolean }): { message: string } | null {
  if (!/Maximum limit has reached/i.test(e.message)) return null;
  const n = c.count > 0 ? c.count : null;
  if (c.what === 'key') {
    const whose = c.owner.type === 'USER' ? 'You have' : 'This service account has';
    return {
      message:
        `${whose} ${n ?? 'the most'} API keys here, the most Keyward allows${n ? '' : ' per owner and scope'}. ` +
        'Delete a key you no longer use, or ask an account admin to raise the limit on the Policies page (without a policy, KEYWARD_MAX_API_KEYS_PER_PARENT, 5 unless set).',
    };
  }
  return {
    message:
      `This key has ${n ?? 'the most'} live tokens, the most Keyward allows${c.rotating ? ' (a rotation adds the new token before the old one stops)' : ''}. ` +
      'Delete a token you no longer use, or ask an account admin to raise the limit on the Policies page (without a policy, KEYWARD_MAX_TOKENS_PER_API_KEY, 5 unless set).',
  };
}
