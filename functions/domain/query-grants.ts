/** Read-side use cases: grants, their audit trail, and the profiles a caller may activate. */

import { type AccountDirectory, profileAccounts } from './accounts.js';
import { type ChainVerdict, verifyChain } from './audit-chain.js';
import type { AuditEvent } from './audit-event.js';
import { GrantNotFoundError, ValidationError } from './errors.js';
import { GRANT_STATUSES, type Grant, type GrantStatus } from './grant.js';
import { parsePage } from './paging.js';
import type { GrantPage, GrantStore } from './ports.js';
import { parsePrincipalArn, principalMatchesAny } from './principal.js';
import { type AcknowledgedRisk, acknowledgedRisks, type Profile, type ProfileSet } from './profile.js';
import { checkGrantId } from './requests.js';

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
  return store.list({ ...(status ? { status } : {}), ...parsePage(query) });
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
