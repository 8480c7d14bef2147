/** @keyward/sdk: a typed Keyward client with locally cached verification kept in step by push invalidation. */
export { KeywardClient, KeywardUnavailableError, createKeywardClient, type KeywardClientOptions, type StreamSettings } from './client.js';
export { tokenDigest, type CacheOptions } from './cache.js';
export type { BackoffOptions } from './stream.js';
export { SseParser, type SseEvent } from './sse.js';
export type { Denied, Invalidation, Principal, Rejected, RejectReason, Scope, SdkMetrics, Verified, VerifyOptions, VerifyResult, components, paths } from './types.js';
export { tokenFrom, decide, type Decision } from './middleware.js';
