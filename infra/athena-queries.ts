/**
 * The auditors' query layer, as data: the Glue table's column type over the daily exports, and
 * the SQL of the saved Athena queries. One module, so the stack deploys exactly what docs/auditor.md
 * quotes and the tests check.
 *
 * The exports are DynamoDB JSON lines, one item a line: `{"Item": {"pk": {"S": "GRANT#…"}, …}}`.
 * Each daily export is a *full* copy of the table, so every query first keeps each item's newest
 * copy across the exports (`newest`): counts are not multiplied by the number of days, and an
 * item deleted from the table since still shows, as it was last exported.
 */

/** @default Glue database name. */
export const AUDIT_DATABASE = 'breakglass_audit';
/** Glue table over `s3://<audit bucket>/exports/`. */
export const AUDIT_TABLE = 'table_exports';
/** @default Athena workgroup name. */
export const AUDIT_WORKGROUP = 'breakglass-audit';
/** Where the workgroup writes query results in the audit bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results';
/** A grant whose expiry ran more than this many seconds after its expiry time is listed as late. */
export const LATE_EXPIRY_SECONDS = 300;

/**
 * The attributes of stored grants and events (`functions/domain/grant.ts`, `audit-event.ts`,
 * plus the table's keys and index attributes), lower-case as Athena names them; the JSON SerDe
 * matches them to the exported keys case-insensitively.
 */
export const STRING_ATTRIBUTES = [
  // keys and index attributes
  'pk',
  'sk',
  'entity',
  'day',
  // grant
  'id',
  'profile',
  'owner',
  'principalarn',
  'targettype',
  'targetname',
  'status',
  'reason',
  'ticket',
  'createdat',
  'expiresat',
  'endedat',
  'endingsince',
  'policyname',
  'schedulename',
  'sessionuserid',
  'grants',
  'endedby',
  'endreason',
  'lasthash',
  'reviewstate',
  'reviewoutcome',
  'reviewedby',
  'reviewedat',
  'requestid',
  'person',
  'grantto',
  'sessionname',
  'policydocument',
  'account',
  'accountalias',
  // event
  'grantid',
  'type',
  'at',
  'actor',
  'outcome',
  'requester',
  'prevhash',
  'hash',
  // action logging (functions/domain/activity.ts): a call, a grant's summary
  'eventid',
  'eventtime',
  'capturedat',
  'account',
  'region',
  'service',
  'action',
  'sourceip',
  'useragent',
  'errorcode',
  'errormessage',
  'requestparameters',
  'identity',
  'attribution',
  'firstcallat',
  'lastcallat',
  'announcedat',
] as const;
export const NUMBER_ATTRIBUTES = [
  'durationminutes',
  'extensions',
  'version',
  'eventcount',
  'sequence',
  'seq',
  'slot',
  'credentialsissued',
  // action logging: a grant's summary counters
  'calls',
  'writes',
  'denied',
  'afterendallowed',
] as const;
/** DynamoDB BOOL attributes (`{"BOOL": true}`): a drill grant's mark; action logging's `readOnly`, `managementEvent` (`afterEnd` is a boolean on a call, a count on a summary). */
export const BOOLEAN_ATTRIBUTES = ['drill', 'readonly', 'managementevent'] as const;

/** The one column, `item`: each attribute is DynamoDB JSON (`{"S": …}`, `{"N": …}`); `details` is a map of strings. */
export const ITEM_COLUMN_TYPE = `struct<${[
  ...STRING_ATTRIBUTES.map((a) => `${a}:struct<s:string>`),
  ...NUMBER_ATTRIBUTES.map((a) => `${a}:struct<n:string>`),
  ...BOOLEAN_ATTRIBUTES.map((a) => `${a}:struct<bool:boolean>`),
  'afterend:struct<bool:boolean,n:string>',
  'resources:struct<l:array<struct<s:string>>>',
  'details:struct<m:map<string,struct<s:string>>>',
].join(',')}>`;

export interface AuditQuery {
  /** Stable id (the construct id of the saved query). */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** The `?` placeholders in order, as docs/auditor.md explains them. */
  readonly parameters: readonly string[];
  readonly sql: string;
}

export const GRANT_ITEMS = "item.sk.s = 'GRANT'";
/** Grant events only: the kill switch's history shares the `EVENT#` sort key under `CONTROL#FREEZE`. */
export const EVENT_ITEMS = "item.sk.s LIKE 'EVENT#%' AND item.pk.s LIKE 'GRANT#%'";
/** Action logging: a grant's summary (`ACTIVITY#<id>` / `SUMMARY`) and its calls (`CALL#<eventTime>#<eventID>`). */
export const ACTIVITY_SUMMARY_ITEMS = "item.pk.s LIKE 'ACTIVITY#%' AND item.sk.s = 'SUMMARY'";
export const ACTIVITY_CALL_ITEMS = "item.pk.s LIKE 'ACTIVITY#%' AND item.sk.s LIKE 'CALL#%'";

/** Each item's newest copy across the daily full exports. */
function newest(source: string, items: string): string {
  return [
    'SELECT item FROM (',
    '    SELECT item, row_number() OVER (PARTITION BY item.pk.s, item.sk.s ORDER BY dt DESC) AS copy_rank',
    `    FROM ${source}`,
    `    WHERE ${items}`,
    '  ) WHERE copy_rank = 1',
  ].join('\n');
}

/**
 * One value of `details`. The OpenX SerDe of Athena's older engine lower-cases map keys, the
 * newer keeps them: ask for both spellings.
 */
function detail(name: string): string {
  return `coalesce(element_at(item.details.m, '${name}'), element_at(item.details.m, '${name.toLowerCase()}')).s`;
}

const GRANT_COLUMNS = [
  'item.id.s AS grant_id',
  'item.createdat.s AS created_at',
  'item.principalarn.s AS requester',
  'item.profile.s AS profile',
  'item.status.s AS status',
  'item.reason.s AS reason',
  'item.ticket.s AS ticket',
  'item.grants.s AS grants',
  'item.expiresat.s AS expires_at',
  'item.endedat.s AS ended_at',
  'item.endedby.s AS ended_by',
  'item.reviewstate.s AS review_state',
  'item.reviewoutcome.s AS review_outcome',
  'item.reviewedby.s AS reviewed_by',
].join(',\n       ');

/** The saved queries, over `"<database>"."<table>"`. */
export function auditQueries(database: string = AUDIT_DATABASE, table: string = AUDIT_TABLE): AuditQuery[] {
  const source = `"${database}"."${table}"`;
  const grants = `WITH grants AS (\n  ${newest(source, GRANT_ITEMS)}\n)`;
  const events = `WITH events AS (\n  ${newest(source, EVENT_ITEMS)}\n)`;
  return [
    {
      id: 'GrantsInPeriod',
      name: 'breakglass: grants in a period',
      description:
        "Every grant (denied and failed attempts included) created from the first parameter (inclusive) to the second (exclusive), e.g. '2026-01-01' and '2026-02-01'.",
      parameters: ['from', 'to'],
      sql: `${grants}\nSELECT ${GRANT_COLUMNS}\nFROM grants\nWHERE item.createdat.s >= ? AND item.createdat.s < ?\nORDER BY item.createdat.s, item.id.s`,
    },
    {
      id: 'GrantsByPerson',
      name: 'breakglass: grants of one person',
      description:
        "Every grant requested by one person: the parameter is the full principal ARN, or the role session name or user name (the last part of the ARN), e.g. 'alice'.",
      parameters: ['person'],
      sql: `${grants}\nSELECT ${GRANT_COLUMNS}\nFROM grants\nWHERE ? IN (item.principalarn.s, element_at(split(item.principalarn.s, '/'), -1))\nORDER BY item.createdat.s, item.id.s`,
    },
    {
      id: 'UnreviewedGrants',
      name: 'breakglass: ended grants still unreviewed',
      description:
        'Grants that gave access and have ended (expired or revoked) whose post-incident review is still due, oldest first.',
      parameters: [],
      sql: `${grants}\nSELECT ${GRANT_COLUMNS},\n       date_diff('day', from_iso8601_timestamp(item.endedat.s), current_timestamp) AS days_since_end\nFROM grants\nWHERE item.reviewstate.s = 'DUE'\nORDER BY item.endedat.s`,
    },
    {
      id: 'ExpiredLate',
      name: 'breakglass: grants expired late',
      description: `EXPIRED events recorded more than ${LATE_EXPIRY_SECONDS} seconds after the grant's expiry (the policy condition still denied use meanwhile), latest first.`,
      parameters: [],
      sql: [
        events,
        'SELECT grant_id, expired_at, requester, profile, expires_at, late_by_seconds',
        'FROM (',
        `  SELECT item.grantid.s AS grant_id, item.at.s AS expired_at, item.requester.s AS requester, item.profile.s AS profile,`,
        `         ${detail('expiresAt')} AS expires_at,`,
        `         try_cast(${detail('lateBySeconds')} AS bigint) AS late_by_seconds`,
        '  FROM events',
        "  WHERE item.type.s = 'EXPIRED'",
        ')',
        `WHERE late_by_seconds > ${LATE_EXPIRY_SECONDS}`,
        'ORDER BY expired_at DESC',
      ].join('\n'),
    },
    {
      id: 'GrantActivity',
      name: 'breakglass: what was done with each grant',
      description:
        'Action logging per grant created from the first parameter (inclusive) to the second (exclusive): calls, writes, denied calls, calls AWS allowed after the end, first and last call. No calls: access granted and never used (when action logging is deployed).',
      parameters: ['from', 'to'],
      sql: [
        `WITH grants AS (\n  ${newest(source, GRANT_ITEMS)}\n),`,
        `summaries AS (\n  ${newest(source, ACTIVITY_SUMMARY_ITEMS)}\n)`,
        `SELECT ${GRANT_COLUMNS.replace(/\bitem\./g, 'grants.item.')},`,
        '       coalesce(cast(s.item.calls.n AS bigint), 0) AS calls,',
        '       coalesce(cast(s.item.writes.n AS bigint), 0) AS writes,',
        '       coalesce(cast(s.item.denied.n AS bigint), 0) AS denied,',
        '       coalesce(cast(s.item.afterendallowed.n AS bigint), 0) AS allowed_after_end,',
        '       s.item.firstcallat.s AS first_call, s.item.lastcallat.s AS last_call',
        "FROM grants LEFT JOIN summaries s ON s.item.pk.s = concat('ACTIVITY#', grants.item.id.s)",
        'WHERE grants.item.createdat.s >= ? AND grants.item.createdat.s < ?',
        'ORDER BY grants.item.createdat.s, grants.item.id.s',
      ].join('\n'),
    },
    {
      id: 'CallsOfGrant',
      name: "breakglass: one grant's calls",
      description:
        'Every AWS API call recorded for the grant whose id is the parameter, oldest first (secrets were never stored).',
      parameters: ['grant id'],
      sql: [
        `WITH calls AS (\n  ${newest(source, ACTIVITY_CALL_ITEMS)}\n)`,
        'SELECT item.eventtime.s AS event_time, item.service.s AS service, item.action.s AS action,',
        '       item.readonly.bool AS read_only, item.errorcode.s AS error_code, item.afterend.bool AS after_end,',
        '       transform(item.resources.l, r -> r.s) AS resources, item.sourceip.s AS source_ip,',
        '       item.useragent.s AS user_agent, item.requestparameters.s AS request_parameters, item.eventid.s AS event_id',
        'FROM calls',
        'WHERE item.grantid.s = ?',
        'ORDER BY item.eventtime.s, item.eventid.s',
      ].join('\n'),
    },
    {
      id: 'ReasonsContaining',
      name: 'breakglass: reasons containing a term',
      description:
        "Events (requests, denials, extensions, revocations) whose reason contains the parameter, case-insensitively, e.g. 'prod-db'.",
      parameters: ['term'],
      sql: `${events}\nSELECT item.grantid.s AS grant_id, item.type.s AS event_type, item.at.s AS event_at, item.actor.s AS actor,\n       item.requester.s AS requester, item.profile.s AS profile, item.reason.s AS reason\nFROM events\nWHERE strpos(lower(item.reason.s), lower(?)) > 0\nORDER BY item.at.s`,
    },
  ];
}
