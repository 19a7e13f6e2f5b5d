/**
 * Credentials: the requester of an ACTIVE profile-role grant gets temporary credentials of the
 * grant's profile role, in the one session the grant's policy is bound to.
 *
 * 1. validate — grant id, the grant exists, the caller is the requesting *person* (`personOf`),
 *    the grant is ACTIVE, grants through a profile role, has time left, the caller is still
 *    eligible for the profile (403) and the profile is not frozen (423). A refusal of someone
 *    else, of someone no longer eligible, or by a freeze is recorded on the grant as
 *    CREDENTIALS_DENIED and announced (someone else's under the DENIED rate limit, per caller
 *    and profile: a flood cannot drown the table's alerts);
 * 2. assume — STS AssumeRole into the profile role, session `bg-<grantId>`, SourceIdentity the
 *    *caller's* person (sanitised: CloudTrail then names who actually holds the session), for as
 *    long as the grant has left within STS's bounds;
 * 3. record — CREDENTIALS_ISSUED with the access key id and expiration only (never the secret
 *    or the token), the caller's and the grant's person, counted on the grant as use for the
 *    reviewer, and announced (INFO). If it cannot be recorded, the credentials are not handed
 *    out (they stay bounded by the policy's expiry condition).
 */

import { type ActivationRules, type Caller, DEFAULT_RULES, frozenReason } from './activate-grant.js';
import type { NewAuditEvent } from './audit-event.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  FrozenError,
  GrantNotFoundError,
  InvalidTransitionError,
  StepFailedError,
} from './errors.js';
import { type Grant, grantPerson } from './grant.js';
import { admitDenialAlert, announce, appendEvent, describeError } from './lifecycle.js';
import type { CredentialVendor, Ports, VendedCredentials } from './ports.js';
import { parsePrincipalArn, personOf, principalMatchesAny } from './principal.js';
import { findProfile, type ProfileSet } from './profile.js';
import { profileRoleArn } from './profile-roles.js';
import { checkGrantId } from './requests.js';

/**
 * STS AssumeRole's DurationSeconds bounds: at least 900 seconds; and at most one hour here, because
 * the credential function's own credentials are a role session, which makes this role chaining
 * ("Role chaining limits your … API role session to a maximum of one hour … if you … provide a
 * DurationSeconds parameter value greater than one hour, the operation fails" — STS API reference,
 * AssumeRole, DurationSeconds).
 */
export const STS_MIN_DURATION_SECONDS = 900;
export const STS_ROLE_CHAINING_MAX_SECONDS = 3600;

export interface CredentialInput {
  readonly grantId: string | undefined;
  readonly caller: Caller;
  readonly requestId?: string;
  /** Set by the drill use case only: a drill grant's credentials go to the drill, nowhere else. */
  readonly drill?: boolean;
}

/** Where the profile roles live: the deployment's partition and account. */
export interface CredentialSettings {
  readonly partition: string;
  readonly accountId: string;
}

export type CredentialPorts = Pick<
  Ports,
  'store' | 'clock' | 'log' | 'notifier' | 'control' | 'alertLimiter' | 'profileRisks'
> & { readonly vendor: CredentialVendor };

export interface IssuedCredentials {
  readonly credentials: VendedCredentials;
  readonly grant: Grant;
}

/**
 * A SourceIdentity STS accepts: 2–64 characters of letters, digits and `_+=,.@-` ("The regex used to
 * validate this parameter is a string of characters consisting of upper- and lower-case alphanumeric
 * characters with no spaces. You can also include underscores or any of the following characters:
 * =,.@-" — STS API reference, AssumeRole, SourceIdentity; length 2–64). Anything else becomes `_`;
 * a name too long keeps its end (the session or user name is the most telling part).
 */
export function sourceIdentityFor(person: string): string {
  // `sso:<account>:<name>` (or the older `sso:<name>`): the name; an ARN: its last segment.
  const name = person.startsWith('sso:')
    ? person.slice(person.lastIndexOf(':') + 1)
    : (person.split('/').pop() ?? person);
  const clean = name.replace(/[^\w+=,.@-]/g, '_');
  const bounded = clean.length > 64 ? clean.slice(-64) : clean;
  return bounded.length >= 2 ? bounded : `${bounded}__`.slice(0, 2);
}

/** How long the credentials last: until the grant ends, within STS's floor and the role-chaining cap. */
export function credentialDuration(now: Date, expiresAt: string): number {
  const left = Math.floor((Date.parse(expiresAt) - now.getTime()) / 1000);
  // Under 15 minutes left: STS cannot issue shorter credentials, so they outlive the grant, but the
  // policy's aws:CurrentTime condition (and its detachment) still ends what they can do at the expiry second.
  return Math.min(Math.max(left, STS_MIN_DURATION_SECONDS), STS_ROLE_CHAINING_MAX_SECONDS);
}

/**
 * Records a refused credentials request on the grant as CREDENTIALS_DENIED and announces it;
 * `limited` puts the alert under the DENIED rate limit (per caller and profile). Never throws.
 */
async function recordRefusal(
  ports: CredentialPorts,
  grant: Grant,
  input: CredentialInput,
  now: Date,
  step: string,
  why: string,
  limited: boolean,
): Promise<void> {
  const alert = limited
    ? await admitDenialAlert(ports, input.caller.arn, grant.profile, now)
    : { announce: true, details: {} };
  const event: NewAuditEvent = {
    type: 'CREDENTIALS_DENIED',
    at: now.toISOString(),
    actor: input.caller.arn,
    outcome: 'FAILURE',
    ...(input.requestId ? { requestId: input.requestId } : {}),
    details: { step, why, ...alert.details },
  };
  const written = await appendEvent(ports, grant, event);
  if (alert.announce) await announce(ports, written ?? grant, event);
}

export async function issueCredentials(
  ports: CredentialPorts,
  profiles: ProfileSet,
  settings: CredentialSettings,
  input: CredentialInput,
  rules: Pick<ActivationRules, 'frozenByConfig'> = DEFAULT_RULES,
): Promise<IssuedCredentials> {
  // 1. validate
  const grantId = checkGrantId(input.grantId);
  const grant = await ports.store.get(grantId);
  if (!grant) throw new GrantNotFoundError(`No grant ${grantId}`);
  const now = ports.clock.now();
  const caller = parsePrincipalArn(input.caller.arn);
  const person = caller ? personOf(caller) : undefined;
  if (!caller || person !== grantPerson(grant)) {
    // Someone else reaching for the grant's session is a security event, not only an access-log line.
    await recordRefusal(ports, grant, input, now, 'Requester', 'not the requesting person', true);
    throw new ForbiddenError(
      `Only the requester (${grant.principalArn}) may take credentials for grant ${grantId}. This attempt was recorded.`,
    );
  }
  if (grant.drill && !input.drill)
    throw new ForbiddenError(`Grant ${grantId} is a drill's: its credentials are taken by the drill itself`);
  if (grant.status !== 'ACTIVE')
    throw new InvalidTransitionError(
      `Grant ${grantId} is ${grant.status}; credentials are issued for ACTIVE grants only`,
    );
  if (grant.endingSince)
    throw new InvalidTransitionError(
      `Grant ${grantId} is being revoked (since ${grant.endingSince}); no credentials are issued`,
    );
  if (grant.grantTo !== 'profileRole' || !grant.sessionName) {
    throw new InvalidTransitionError(
      `Grant ${grantId} was granted to your own ${grant.targetType} ${grant.targetName}: use your usual credentials, no new ones are needed`,
    );
  }
  if (Date.parse(grant.expiresAt) <= now.getTime())
    throw new InvalidTransitionError(`Grant ${grantId} expired at ${grant.expiresAt}`);
  // Eligibility as the profile file says now: someone removed from a profile gets no new session.
  const profile = findProfile(profiles, grant.profile);
  // A drill profile has no eligible principals: the drill authorised its runner (drill.ts).
  const drillRun = input.drill === true && grant.drill === true && profile?.drill === true;
  if (!profile || (!drillRun && !principalMatchesAny(profile.eligible, caller))) {
    const why = profile
      ? `no longer eligible for profile "${profile.name}"`
      : `profile "${grant.profile}" no longer exists`;
    await recordRefusal(ports, grant, input, now, 'Eligibility', why, false);
    throw new ForbiddenError(
      `${input.caller.arn} is ${why}; no credentials are issued for grant ${grantId}. This attempt was recorded and announced.`,
    );
  }
  const frozen = frozenReason(profile.name, await ports.control.freezeState(), rules.frozenByConfig);
  if (frozen) {
    await recordRefusal(ports, grant, input, now, 'Freeze', `credentials are ${frozen}`, false);
    throw new FrozenError(
      `Credentials for "${profile.name}" are ${frozen}. Sessions already issued end with the grant. This attempt was recorded and announced.`,
      grant.id,
    );
  }

  // 2. assume
  const durationSeconds = credentialDuration(now, grant.expiresAt);
  // The caller's person, not the grant's: the session then names who actually took it.
  const sourceIdentity = sourceIdentityFor(person);
  let credentials: VendedCredentials;
  try {
    credentials = await ports.vendor.assume({
      // A spoke grant's profile role is in the spoke: one hop from the credential function's role, which it trusts.
      roleArn: profileRoleArn(settings.partition, grant.account ?? settings.accountId, grant.targetName),
      sessionName: grant.sessionName,
      sourceIdentity,
      durationSeconds,
    });
  } catch (error) {
    ports.log.error({
      msg: 'could not assume the profile role',
      grantId,
      role: grant.targetName,
      error: describeError(error),
    });
    throw new StepFailedError(
      'AssumeRole',
      `${grant.account && grant.account !== settings.accountId ? `Could not open the session on ${grant.targetName} in account ${grant.account}: deploy the break-glass spoke there with profile "${grant.profile}" (BreakGlassSpoke stack or the hub's StackSet). ` : ''}Could not open the session on ${grant.targetName} for grant ${grantId}; the grant is unchanged. Retry in a moment.`,
      { cause: error },
    );
  }

  // 3. record (access key id and expiration only)
  const event: NewAuditEvent = {
    type: 'CREDENTIALS_ISSUED',
    at: now.toISOString(),
    actor: input.caller.arn,
    outcome: 'SUCCESS',
    ...(input.requestId ? { requestId: input.requestId } : {}),
    details: {
      accessKeyId: credentials.accessKeyId,
      expiration: credentials.expiration,
      durationSeconds: String(durationSeconds),
      sourceIdentity,
      session: grant.sessionName,
      person,
      grantPerson: grantPerson(grant),
    },
  };
  let current = grant;
  for (let attempt = 0; ; attempt++) {
    try {
      const written = await ports.store.append(current, event, {
        credentialsIssued: (current.credentialsIssued ?? 0) + 1,
      });
      await announce(ports, written, event);
      return { credentials, grant: written };
    } catch (error) {
      const fresh =
        error instanceof ConcurrentUpdateError && attempt < 2
          ? await ports.store.get(grantId).catch(() => undefined)
          : undefined;
      if (fresh?.status === 'ACTIVE' && !fresh.endingSince) {
        current = fresh;
        continue;
      }
      ports.log.error({
        msg: 'credentials issued but not recorded; withheld',
        grantId,
        accessKeyId: credentials.accessKeyId,
        error: describeError(error),
      });
      if (fresh)
        throw new InvalidTransitionError(
          fresh.endingSince && fresh.status === 'ACTIVE'
            ? `Grant ${grantId} is being revoked (since ${fresh.endingSince}); no credentials are issued`
            : `Grant ${grantId} became ${fresh.status} meanwhile; no credentials are issued`,
        );
      throw new StepFailedError(
        'RecordCredentials',
        `Could not record the issue of credentials for grant ${grantId}, so none are handed out. Retry in a moment.`,
        { cause: error },
      );
    }
  }
}
