/**
 * Every failure the break-glass domain knows, one class each. Callers branch on the
 * class (`instanceof`), never on `name` strings. `statusCode` tells the HTTP layer how
 * to answer; only errors with a 4xx status ever show their message to a caller.
 */
export abstract class BreakGlassError extends Error {
  /** Stable, machine-readable code returned as `error.code`. */
  abstract readonly code: string;
  /** HTTP status this failure maps to. */
  abstract readonly statusCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed or a field fails validation. */
export class ValidationError extends BreakGlassError {
  readonly code = 'ValidationError';
  readonly statusCode = 400;
}

/** The request body is larger than the API accepts. */
export class PayloadTooLargeError extends BreakGlassError {
  readonly code = 'PayloadTooLarge';
  readonly statusCode = 413;
}

/** The request has no authenticated IAM principal (API Gateway did not sign it in). */
export class UnauthenticatedError extends BreakGlassError {
  readonly code = 'Unauthenticated';
  readonly statusCode = 401;
}

/** The caller may not activate this profile. Recorded and announced as DENIED. */
export class NotEligibleError extends BreakGlassError {
  readonly code = 'NotEligible';
  readonly statusCode = 403;
  constructor(
    message: string,
    readonly grantId?: string,
  ) {
    super(message);
  }
}

/** A drill profile was asked for outside a drill (`POST /grants`): refused and recorded as DENIED. */
export class DrillOnlyError extends BreakGlassError {
  readonly code = 'DrillProfile';
  readonly statusCode = 403;
  constructor(
    message: string,
    readonly grantId?: string,
  ) {
    super(message);
  }
}

/** The caller may not act on this grant (revoke someone else's grant without being security). */
export class ForbiddenError extends BreakGlassError {
  readonly code = 'Forbidden';
  readonly statusCode = 403;
}

/**
 * The caller's role is one IAM refuses to change (Identity Center, service-linked): a
 * `grantTo: "caller"` profile cannot grant it anything; the profile must use its profile role.
 */
export class ProtectedRoleError extends BreakGlassError {
  readonly code = 'ProtectedRole';
  readonly statusCode = 409;
}

/** No profile of that name. */
export class ProfileNotFoundError extends BreakGlassError {
  readonly code = 'ProfileNotFound';
  readonly statusCode = 404;
}

/** No grant with that id. */
export class GrantNotFoundError extends BreakGlassError {
  readonly code = 'GrantNotFound';
  readonly statusCode = 404;
}

/** No drill with that id (`GET /drills/{id}`). */
export class DrillNotFoundError extends BreakGlassError {
  readonly code = 'DrillNotFound';
  readonly statusCode = 404;
}

/** The grant is not in a state that allows the action (e.g. revoking an expired grant). */
export class InvalidTransitionError extends BreakGlassError {
  readonly code = 'InvalidState';
  readonly statusCode = 409;
}

/** Someone else changed the grant between our read and our write. */
export class ConcurrentUpdateError extends BreakGlassError {
  readonly code = 'ConcurrentUpdate';
  readonly statusCode = 409;
}

/** Activations are frozen (kill switch) for all profiles or this one. */
export class FrozenError extends BreakGlassError {
  readonly code = 'Frozen';
  readonly statusCode = 423;
  constructor(
    message: string,
    readonly grantId?: string,
  ) {
    super(message);
  }
}

/** A configured limit (active grants, extensions, total duration) would be exceeded. */
export class LimitExceededError extends BreakGlassError {
  readonly code = 'LimitExceeded';
  readonly statusCode = 409;
}

/** The grant's policy does not fit beside the target's other inline policies (IAM's aggregate limit). */
export class PolicySizeLimitError extends BreakGlassError {
  readonly code = 'PolicySizeLimit';
  readonly statusCode = 409;
}

/** Too many activations at once on the same IAM entity; retrying shortly will work. */
export class BusyError extends BreakGlassError {
  readonly code = 'Busy';
  readonly statusCode = 503;
}

/** The Idempotency-Key was already used; `grantId` is the grant it produced. */
export class IdempotencyReplayError extends BreakGlassError {
  readonly code = 'IdempotencyReplay';
  readonly statusCode = 409;
  constructor(
    message: string,
    readonly grantId: string,
  ) {
    super(message);
  }
}

/** A claim an activation makes in the transaction that records it (`ActivationClaims`). */
export type ClaimName = 'frozen' | 'idempotency' | 'person' | 'slot' | 'conflict';

/**
 * The transaction recording an activation was refused by one of its claims' conditions (or by a
 * concurrent transaction on the same items: `conflict`). Nothing was written. `activateGrant`
 * settles it (reads what it needs to say why, or retries); it never reaches a caller.
 */
export class ClaimRefusedError extends BreakGlassError {
  readonly code = 'ClaimRefused';
  readonly statusCode = 409;
  constructor(
    message: string,
    readonly refused: readonly ClaimName[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The profile file is invalid. Thrown at synth time and at cold start, never mid-outage. */
export class ProfileConfigError extends BreakGlassError {
  readonly code = 'ProfileConfigError';
  readonly statusCode = 500;
}

/** A required environment variable is missing or invalid. */
export class ConfigurationError extends BreakGlassError {
  readonly code = 'ConfigurationError';
  readonly statusCode = 500;
}

/**
 * An AWS step of a lifecycle failed. The use case has already rolled back what it
 * could and recorded + announced the failure; the caller gets a 503 with a message
 * saying what happened to their access.
 */
export class StepFailedError extends BreakGlassError {
  readonly code: string;
  readonly statusCode = 503;
  constructor(
    readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = `${step}Failed`;
  }
}

/**
 * A spoke account (a member account where a grant's profile role lives) is missing or refuses:
 * no manager role to assume, AccessDenied, throttling past the retries, or the profile role is not
 * there. The message names the account and what to deploy; nothing was granted there.
 */
export class SpokeUnavailableError extends BreakGlassError {
  readonly code = 'SpokeUnavailable';
  readonly statusCode = 503;
  constructor(
    readonly account: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The previous day's export failed (or never ran although today's did). */
export class ExportFailedError extends BreakGlassError {
  readonly code = 'ExportFailed';
  readonly statusCode = 500;
}

/** A sweep in which some step failed; every other step was still done. Thrown so Lambda counts an error. */
export class SweepFailedError extends BreakGlassError {
  readonly code = 'SweepFailed';
  readonly statusCode = 500;
  constructor(
    readonly failedSteps: readonly string[],
    message: string,
  ) {
    super(message);
  }
}
