/** Read-side use cases: grants, their audit trail, and the profiles a caller may activate. */

import { type AccountDirectory, profileAccounts } from './accounts.js';
import { type ChainVerdict, verifyChain } from './audit-chain.js';
import type { AuditEvent } from './audit-event.js';
import { GrantNotFoundError, ValidationError } from './errors.js';
import { GRANT_STATUSES, type Grant, type GrantStatus } from './grant.js';
import type { GrantPage, GrantStore } from './ports.js';
import { parsePrincipalArn, principalMatchesAny } from './principal.js';
import { type AcknowledgedRisk, acknowledgedRisks, type Profile, type ProfileSet } from './profile.js';
import { checkGrantId } from './requests.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/** A grant, its events (oldest first) and whether its hash chain still holds (`audit-chain.ts`). */
export async function getGrant(
  store: GrantStore,
  rawId: string | undefined,
): Promise<{ grant: Grant; events: AuditEvent[]; integrity: ChainVerdict }> {
  const id = checkGrantId(rawId);
  const grant = await store.get(id);
  if (!grant) throw new GrantNotFoundError(`No grant ${id}`);
  const events = await store.events(id);
  return { grant, events, integrity: verifyChain(grant, events) };
}

export async function listGrants(
  store: GrantStore,
  query: { status?: string; limit?: string; nextToken?: string },
): Promise<GrantPage> {
  let status: GrantStatus | undefined;
  if (query.status !== undefined) {
    const upper = query.status.toUpperCase();
    if (!(GRANT_STATUSES as readonly string[]).includes(upper))
      throw new ValidationError(`status must be one of ${GRANT_STATUSES.join(', ')}`);
    status = upper as GrantStatus;
  }
  let limit = DEFAULT_PAGE_SIZE;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw new ValidationError(`limit must be a whole number between 1 and ${MAX_PAGE_SIZE}`);
  }
  if (query.nextToken !== undefined && !/^[A-Za-z0-9_-]{1,2048}$/.test(query.nextToken))
    throw new ValidationError('nextToken is not a token this API issued');
  return store.list({
    ...(status ? { status } : {}),
    limit,
    ...(query.nextToken ? { nextToken: query.nextToken } : {}),
  });
}

/** What a caller sees of a profile: enough to choose one, including exactly what it grants. */
export interface ProfileView {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly maxDurationMinutes: number;
  readonly ticket: Profile['ticket'];
  readonly statements: Profile['statements'];
  /** The escalation risk classes the profile acknowledges, each with its justification (empty when none). */
  readonly acknowledgedRisks: readonly AcknowledgedRisk[];
  /** The accounts it grants in, with their aliases when known; a request names one when there are several. */
  readonly accounts: ReadonlyArray<{ readonly id: string; readonly alias?: string }>;
}

export function listProfiles(profiles: ProfileSet, callerArn: string, directory: AccountDirectory = {}): ProfileView[] {
  const principal = parsePrincipalArn(callerArn);
  if (!principal) return [];
  return profiles.profiles
    .filter((p) => principalMatchesAny(p.eligible, principal))
    .map((p) => ({
      name: p.name,
      description: p.description,
      owner: p.owner,
      maxDurationMinutes: p.maxDurationMinutes,
      ticket: p.ticket,
      statements: p.statements,
      acknowledgedRisks: acknowledgedRisks(p),
      accounts: profileAccounts(p, directory).map((id) =>
        directory.aliases?.[id] ? { id, alias: directory.aliases[id] } : { id },
      ),
    }));
}
