/**
 * The one error hierarchy of Keyward. Services throw these; each protocol maps them to its wire
 * shape in exactly one file. Nothing here knows about HTTP.
 */

export interface FieldViolation {
  /** The field the rule concerns, as the caller named it (e.g. "identifier", "tags"). */
  field: string;
  /** What was wrong, in words a caller can act on. */
  message: string;
}

export interface FailedPermissionCheck {
  permission: string;
  resourceType: string;
  resourceIdentifier: string | null;
  scope: { accountId: string; orgId: string | null; projectId: string | null };
}

export type ErrorKind =
  | 'not_found'
  | 'conflict'
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'limit_exceeded'
  | 'precondition_failed'
  | 'unavailable';

export abstract class KeywardError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends KeywardError {
  readonly kind = 'not_found' as const;
  constructor(
    message: string,
    readonly resourceType: string,
    readonly resourceId: string,
  ) {
    super(message);
  }
}

export class ConflictError extends KeywardError {
  readonly kind = 'conflict' as const;
  constructor(
    message: string,
    readonly resourceType: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Why an argument was refused: `field` for a malformed field (its shape, length, characters),
 * `rule` for a well-formed request that breaks a business rule, `scope_missing` for a scope
 * (account, organization, project) that does not exist. Protocols render these differently.
 */
export type InvalidArgumentReason = 'field' | 'rule' | 'scope_missing';

export class InvalidArgumentError extends KeywardError {
  readonly kind = 'invalid_argument' as const;
  readonly violations: FieldViolation[];
  readonly reason: InvalidArgumentReason;
  constructor(message: string, violations: FieldViolation[] = [], reason: InvalidArgumentReason = 'rule') {
    super(message);
    this.violations = violations;
    this.reason = reason;
  }
  /** A single malformed field; the message is "<field>: <message>". */
  static field(field: string, message: string): InvalidArgumentError {
    return new InvalidArgumentError(`${field}: ${message}`, [{ field, message }], 'field');
  }
}

export class UnauthenticatedError extends KeywardError {
  readonly kind = 'unauthenticated' as const;
  constructor(
    message = 'Token is not valid.',
    readonly reason?: string,
  ) {
    super(message);
  }
}

export class PermissionDeniedError extends KeywardError {
  readonly kind = 'permission_denied' as const;
  constructor(
    message: string,
    readonly failedChecks: FailedPermissionCheck[] = [],
  ) {
    super(message);
  }
}

export class LimitExceededError extends KeywardError {
  readonly kind = 'limit_exceeded' as const;
  constructor(
    message: string,
    readonly limit: number,
  ) {
    super(message);
  }
}

export class PreconditionFailedError extends KeywardError {
  readonly kind = 'precondition_failed' as const;
}

/**
 * A dependency (the database) cannot be reached: the request was not carried out, and may be retried
 * after `retryAfterSeconds`. Raised by the store layer for connectivity failures only (refused or
 * dropped connections, pool timeouts, a server shutting down, SQLite busy past its timeout), never
 * for a query the database refused on its merits.
 */
export class UnavailableError extends KeywardError {
  readonly kind = 'unavailable' as const;
  constructor(
    message: string,
    /** Which dependency failed, e.g. "postgresql" or "sqlite". */
    readonly dependency: string,
    readonly retryAfterSeconds = 2,
  ) {
    super(message);
  }
}

export function isKeywardError(e: unknown): e is KeywardError {
  return e instanceof KeywardError;
}
