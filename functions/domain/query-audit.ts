/**
 * `GET /audit`: the audit events of all grants for auditors and responders, filtered by
 * requester, profile, event type and time, newest first, paginated. Each filter combination
 * is served by an index (see `table-schema.ts`); a query with no filter but time walks the
 * per-day index, so its range is bounded.
 */
import { EVENT_TYPES, type EventType } from './audit-event.js';
import { ValidationError } from './errors.js';
import { parsePage } from './paging.js';
import type { AuditLog, AuditQuery, EventPage } from './ports.js';

/** Without a requester, profile or type filter, at most this many days per query. */
export const MAX_UNFILTERED_DAYS = 93;
/** Without a filter or `from`, this many days back from `to`. */
export const DEFAULT_UNFILTERED_DAYS = 7;

const DAY_MS = 86_400_000;

/** The query string as API Gateway passes it. */
export type AuditQueryParams = Readonly<Record<string, string | undefined>>;
/** The query-string parameters `GET /audit` takes (the API declares exactly these). */
export const AUDIT_QUERY_PARAMETERS = [
  'requester',
  'profile',
  'eventType',
  'from',
  'to',
  'limit',
  'nextToken',
] as const;
const KNOWN = new Set<string>(AUDIT_QUERY_PARAMETERS);

function time(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw)
    ? Date.parse(raw)
    : NaN;
  if (Number.isNaN(ms))
    throw new ValidationError(`${name} must be an ISO 8601 date or time, e.g. 2026-11-24 or 2026-11-24T10:00:00Z`);
  return new Date(ms).toISOString();
}

/** Validates the query string into an {@link AuditQuery}. */
export function parseAuditQuery(params: AuditQueryParams, now: Date): AuditQuery {
  const unknown = Object.keys(params).filter((k) => !KNOWN.has(k));
  if (unknown.length)
    throw new ValidationError(
      `unknown query parameter(s): ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; known: ${[...KNOWN].join(', ')}`,
    );
  const { requester, profile, eventType, limit: rawLimit, nextToken: rawToken } = params;
  if (requester !== undefined && !/^arn:[\w-]+:(sts|iam)::\d{12}:[\x21-\x7e]{1,1900}$/.test(requester))
    throw new ValidationError('requester must be the ARN of an IAM user or role session');
  if (profile !== undefined && !/^[a-z0-9][a-z0-9-]{0,63}$/.test(profile))
    throw new ValidationError('profile must be a profile name (lower-case letters, digits and "-")');
  let type: EventType | undefined;
  if (eventType !== undefined) {
    const upper = eventType.toUpperCase();
    if (!(EVENT_TYPES as readonly string[]).includes(upper))
      throw new ValidationError(`eventType must be one of ${EVENT_TYPES.join(', ')}`);
    type = upper as EventType;
  }
  const { limit, nextToken } = parsePage({ limit: rawLimit, nextToken: rawToken });

  // A date alone as `to` means the whole of that day.
  const toTime = time('to', params.to);
  const to =
    toTime === undefined
      ? now.toISOString()
      : /^\d{4}-\d{2}-\d{2}$/.test(params.to!)
        ? new Date(Date.parse(toTime) + DAY_MS - 1).toISOString()
        : toTime;
  const filtered = requester !== undefined || profile !== undefined || type !== undefined;
  const from =
    time('from', params.from) ??
    (filtered ? '1970-01-01T00:00:00.000Z' : new Date(Date.parse(to) - DEFAULT_UNFILTERED_DAYS * DAY_MS).toISOString());
  if (from > to) throw new ValidationError('from must not be later than to');
  if (!filtered && Date.parse(to) - Date.parse(from) > MAX_UNFILTERED_DAYS * DAY_MS) {
    throw new ValidationError(
      `without a requester, profile or eventType filter, from and to may be at most ${MAX_UNFILTERED_DAYS} days apart`,
    );
  }
  return {
    ...(requester ? { requester } : {}),
    ...(profile ? { profile } : {}),
    ...(type ? { eventType: type } : {}),
    from,
    to,
    limit,
    ...(nextToken ? { nextToken } : {}),
  };
}

export async function queryAudit(
  log: AuditLog,
  params: AuditQueryParams,
  now: Date,
): Promise<EventPage & { query: Omit<AuditQuery, 'nextToken'> }> {
  const query = parseAuditQuery(params, now);
  const page = await log.queryEvents(query);
  const { nextToken: _t, ...shown } = query;
  return { ...page, query: shown };
}
