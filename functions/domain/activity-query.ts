/**
 * `GET /grants/{id}/activity?limit=&nextToken=`: what was done with a grant, newest call first,
 * with its summary.
 *
 * 1. validate — the id, and only `limit` (1–100, default 25) and `nextToken`;
 * 2. authorize — the requester, a security principal or a reviewer (what the calls reveal —
 *    resources, parameters, source IPs — is for the people who answer for the grant);
 * 3. read — one page and the summary;
 * 4. verify (first page only: it reads every record) — the records against their hashes and summary, and
 *    against the digest the review sealed (`activity-seal.ts`): `integrity`, `ok: false` with the problem.
 */
import type { Caller } from './activate-grant.js';
import type { ActivityRecord, ActivitySummary } from './activity.js';
import { type ActivityIntegrity, checkActivityIntegrity } from './activity-seal.js';
import { ForbiddenError, GrantNotFoundError, ValidationError } from './errors.js';
import { type PageRequest, parsePage } from './paging.js';
import type { ActivityStore, GrantStore } from './ports.js';
import { parsePrincipalArn, principalMatchesAny } from './principal.js';
import { checkGrantId } from './requests.js';

/** The query-string parameters `GET /grants/{id}/activity` takes. */
export const ACTIVITY_QUERY_PARAMETERS = ['limit', 'nextToken'] as const;
const KNOWN = new Set<string>(ACTIVITY_QUERY_PARAMETERS);

/** Who may read a grant's activity besides its requester. */
export interface ActivityReaders {
  readonly security: readonly string[];
  readonly reviewers: readonly string[];
}

export interface ActivityQueryInput {
  readonly grantId: string | undefined;
  readonly caller: Caller;
  readonly query: Readonly<Record<string, string | undefined>>;
}

export interface ActivityAnswer {
  readonly activity: readonly ActivityRecord[];
  readonly summary: ActivitySummary;
  readonly nextToken?: string;
  /** On the first page: the records checked against their hashes, their summary and the review's seal. */
  readonly integrity?: ActivityIntegrity;
}

export function parseActivityQuery(query: Readonly<Record<string, string | undefined>>): PageRequest {
  const unknown = Object.keys(query).filter((k) => !KNOWN.has(k));
  if (unknown.length)
    throw new ValidationError(
      `unknown query parameter(s): ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; known: ${[...KNOWN].join(', ')}`,
    );
  return parsePage(query);
}

export async function getActivity(
  ports: { store: Pick<GrantStore, 'get' | 'events'>; activity: ActivityStore },
  readers: ActivityReaders,
  input: ActivityQueryInput,
): Promise<ActivityAnswer> {
  // 1. validate
  const grantId = checkGrantId(input.grantId);
  const query = parseActivityQuery(input.query);
  // 2. authorize
  const grant = await ports.store.get(grantId);
  if (!grant) throw new GrantNotFoundError(`No grant ${grantId}`);
  const caller = parsePrincipalArn(input.caller.arn);
  const allowed =
    input.caller.arn === grant.principalArn ||
    (caller !== undefined &&
      (principalMatchesAny(readers.security, caller) || principalMatchesAny(readers.reviewers, caller)));
  if (!allowed)
    throw new ForbiddenError(
      `Only the requester (${grant.principalArn}), a security principal or a reviewer may read the activity of grant ${grantId}`,
    );
  // 3. read
  const [page, summary] = await Promise.all([ports.activity.page(grantId, query), ports.activity.summary(grantId)]);
  // 4. verify
  let integrity: ActivityIntegrity | undefined;
  if (!query.nextToken) {
    const [events, records] = await Promise.all([ports.store.events(grantId), ports.activity.all(grantId)]);
    integrity = checkActivityIntegrity(grantId, events, summary, records);
  }
  return {
    activity: page.activity,
    summary,
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    ...(integrity ? { integrity } : {}),
  };
}
