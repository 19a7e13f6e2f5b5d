/**
 * `GET /grants/{id}/activity?limit=&nextToken=`: what was done with a grant, newest call first,
 * with its summary.
 *
 * 1. validate — the id, and only `limit` (1–100, default 25) and `nextToken`;
 * 2. authorize — the requester, a security principal or a reviewer (what the calls reveal —
 *    resources, parameters, source IPs — is for the people who answer for the grant);
 * 3. read — one page and the summary.
 */
import type { Caller } from './activate-grant.js';
import type { ActivityRecord, ActivitySummary } from './activity.js';
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
  ports: { store: Pick<GrantStore, 'get'>; activity: ActivityStore },
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
  return { activity: page.activity, summary, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}
