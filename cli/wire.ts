/**
 * The shapes of the API's JSON answers as the CLI reads them. Type-only: the CLI trusts the API for the shape it
 * declares (the API is ours and versioned with this CLI); nothing here is validated at run time.
 */
import type { ActivityRecord, ActivitySummary } from '../functions/domain/activity.js';

export interface WireGrant {
  readonly id: string;
  readonly profile: string;
  readonly owner?: string;
  readonly status: string;
  readonly expiresAt: string;
  readonly endedAt?: string;
  readonly principalArn: string;
  readonly reason: string;
  readonly ticket?: string;
  readonly grants?: string;
  readonly policyName: string;
  readonly targetType: string;
  readonly targetName: string;
  readonly account?: string;
  readonly accountAlias?: string;
  readonly grantTo?: string;
  readonly reviewOutcome?: string;
  readonly createdAt: string;
  readonly sessionUserId?: string;
}

export interface WireEvent {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  readonly actor: string;
  readonly reason?: string;
  readonly profile: string;
  readonly requester: string;
  readonly grantId: string;
}

export interface WireProfile {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly maxDurationMinutes: number;
  readonly ticket?: { readonly required?: boolean; readonly pattern?: string };
  readonly mfa?: { readonly required?: boolean };
  readonly accounts?: ReadonlyArray<{ readonly id: string; readonly alias?: string }>;
  readonly statements: ReadonlyArray<{
    readonly effect: string;
    readonly actions: readonly string[];
    readonly resources: readonly string[];
  }>;
}

export interface WireError {
  readonly error?: { readonly code: string; readonly message: string; readonly requestId?: string };
  readonly message?: string;
  readonly Message?: string;
}

/** Vended credentials as the API answers them. */
export interface WireCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: string;
}

export interface GrantBody {
  readonly grant: WireGrant;
  readonly existing?: boolean;
  readonly warnings?: readonly string[];
}
export interface GrantWithEventsBody {
  readonly grant: WireGrant;
  readonly events: readonly WireEvent[];
}
export interface GrantsBody {
  readonly grants: readonly WireGrant[];
  readonly nextToken?: string;
}
export interface EventsBody {
  readonly events: readonly WireEvent[];
  readonly nextToken?: string;
}
export interface ProfilesBody {
  readonly profiles: readonly WireProfile[];
}
export interface FreezeBody {
  readonly freeze: { readonly all: boolean; readonly profiles: readonly string[] };
}
export interface RevokeAllBody {
  readonly revoked: number;
  readonly failed: number;
  readonly results: ReadonlyArray<{
    readonly id: string;
    readonly profile: string;
    readonly principalArn: string;
    readonly account?: string;
    readonly accountAlias?: string;
    readonly outcome: string;
    readonly error?: string;
    readonly sessionLiveUntil?: string;
  }>;
}
export interface CredentialsBody {
  readonly credentials: WireCredentials;
}
export interface ActivityBody {
  readonly activity: readonly ActivityRecord[];
  readonly summary: ActivitySummary;
  readonly nextToken?: string;
  /** First page: the records checked against their hashes, summary and the review's seal (activity-seal.ts). */
  readonly integrity?: { readonly ok: boolean; readonly problem?: string };
}
