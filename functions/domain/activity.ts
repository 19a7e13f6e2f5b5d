/**
 * Action logging: what was done with a grant, one record per AWS API call CloudTrail saw.
 *
 * A record keeps when (`eventTime`), where (account, region), what (service, action, resources),
 * whether it only read, how it ended (error code and message, so `AccessDenied` attempts beyond
 * the grant's scope show), from where (source IP, user agent) and the request's parameters,
 * redacted and bounded:
 *
 * - **Secrets never stored.** Every field of `requestParameters` whose name, lower-cased with
 *   everything but letters and digits removed, *contains* one of {@link SECRET_MARKERS} is dropped,
 *   at every depth (objects inside arrays too). Only its path is kept (`redactedFields`), so an
 *   auditor still sees that a password was set, never the password.
 * - **Bounded.** The redacted parameters are kept as canonical JSON of at most
 *   {@link MAX_REQUEST_BYTES} UTF-8 bytes: long strings are cut to 256 characters and arrays to
 *   20 items first; if still too long the text is cut (`requestTruncated`).
 * - **`responseElements` are never kept**: for STS calls (`AssumeRole`, `GetSessionToken`, …)
 *   they carry the issued credentials.
 *
 * Integrity: each record carries `hash`, a SHA-256 over its canonical JSON (all but the table
 * keys and `hash`). Records of a grant are content-addressed (keyed by `eventTime` and CloudTrail's
 * `eventID`), so deliveries in any order and duplicates land in one place and never contend with
 * the grant's lifecycle writes; {@link activityDigest} folds them, ordered by key, into one Merkle
 * root that a later audit event can seal (see docs/action-logging.md).
 *
 * Pure functions: the capture use case, the adapter, the CLI and the tests use them.
 */
import { canonicalJson, sha256Hex } from './audit-chain.js';

/** CloudTrail's EventBridge detail-type for API calls. Free-form: anyone with events:PutEvents may send it. */
export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
/**
 * The source prefix only AWS services can send: "The aws. value prefix is service-reserved and cannot be
 * used as a value" (EventBridge API reference, PutEventsRequestEntry, Source). CloudTrail's API-call
 * events carry `aws.<service>`. The capture rule requires it, and the capture rejects anything else.
 */
export const AWS_SOURCE_PREFIX = 'aws.';

/** Session names break-glass gives profile-role sessions: `bg-<grantId>`. */
export const SESSION_PREFIX = 'bg-';
export function sessionNameFor(grantId: string): string {
  return `${SESSION_PREFIX}${grantId}`;
}

/**
 * Substrings of a normalized field name (lower case, letters and digits only) that mark a secret.
 * `keymaterial` covers KMS `ImportKeyMaterial`, `privatekey` ACM/IoT imports, `token` session and
 * auth tokens, `plaintext` KMS, `userdata` EC2 user data (often holds bootstrap secrets).
 */
export const SECRET_MARKERS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'credential',
  'privatekey',
  'keymaterial',
  'plaintext',
  'apikey',
  'authorization',
  'userdata',
] as const;

/** Largest serialized `requestParameters` kept, in UTF-8 bytes. */
export const MAX_REQUEST_BYTES = 2048;
const MAX_STRING = 256;
const MAX_ARRAY = 20;
const MAX_RESOURCES = 20;
const MAX_REDACTED = 20;

/** One API call made with a grant. */
export interface ActivityRecord {
  readonly grantId: string;
  /** CloudTrail's `eventID`: the deduplication key. */
  readonly eventId: string;
  /** When the call was made (CloudTrail `eventTime`, whole seconds, UTC). */
  readonly eventTime: string;
  /** When break-glass stored it: CloudTrail delivers minutes late, which is normal. */
  readonly capturedAt: string;
  readonly account: string;
  readonly region: string;
  /** `eventSource`, e.g. `s3.amazonaws.com`. */
  readonly service: string;
  /** `eventName`, e.g. `GetObject`. */
  readonly action: string;
  /** CloudTrail `readOnly`; absent when CloudTrail did not say (counted as a write). */
  readonly readOnly?: boolean;
  readonly managementEvent?: boolean;
  /** ARNs the call touched (`resources[]`, else derived from the request). */
  readonly resources: readonly string[];
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** Redacted, bounded `requestParameters` as canonical JSON. */
  readonly requestParameters?: string;
  readonly requestTruncated?: boolean;
  /** Paths of the fields dropped as secrets. */
  readonly redactedFields?: readonly string[];
  /** Who made it: the session ARN as CloudTrail reported it. */
  readonly identity: string;
  /** How it was tied to the grant: the `bg-<grantId>` session name, or the grant's `aws:userid` within its window. */
  readonly attribution: 'session' | 'userid';
  /** Made after the grant's end second (expiry, or revocation). */
  readonly afterEnd: boolean;
  /** SHA-256 over every other field (canonical JSON). */
  readonly hash: string;
}

/** Per grant: kept exact under concurrent, duplicated deliveries. */
export interface ActivitySummary {
  readonly grantId: string;
  readonly calls: number;
  /** Calls not marked read-only. */
  readonly writes: number;
  /** Calls that failed with an access error (`AccessDenied`, `UnauthorizedOperation`, …). */
  readonly denied: number;
  /** Calls after the grant's end second, and of those the ones that were allowed (a defect). */
  readonly afterEnd: number;
  readonly afterEndAllowed: number;
  readonly firstCallAt?: string;
  readonly lastCallAt?: string;
}

export function emptySummary(grantId: string): ActivitySummary {
  return { grantId, calls: 0, writes: 0, denied: 0, afterEnd: 0, afterEndAllowed: 0 };
}

/** How a call changes the summary's counters. */
export function summaryIncrements(record: Pick<ActivityRecord, 'readOnly' | 'errorCode' | 'afterEnd'>): {
  calls: number;
  writes: number;
  denied: number;
  afterEnd: number;
  afterEndAllowed: number;
} {
  return {
    calls: 1,
    writes: record.readOnly === true ? 0 : 1,
    denied: isDenied(record.errorCode) ? 1 : 0,
    afterEnd: record.afterEnd ? 1 : 0,
    afterEndAllowed: record.afterEnd && !record.errorCode ? 1 : 0,
  };
}

/** CloudTrail error codes that mean "not allowed" (IAM, EC2's dry-run style, S3, KMS). */
export function isDenied(errorCode: string | undefined): boolean {
  return (
    errorCode !== undefined &&
    /(AccessDenied|UnauthorizedOperation|Unauthorized|Forbidden|NotAuthorized|AuthorizationError)/i.test(errorCode)
  );
}

/** The CloudTrail record as it arrives in an EventBridge event's `detail` (only what is read). */
export interface CloudTrailRecord {
  readonly eventID?: unknown;
  readonly eventTime?: unknown;
  readonly eventSource?: unknown;
  readonly eventName?: unknown;
  readonly awsRegion?: unknown;
  readonly recipientAccountId?: unknown;
  readonly sourceIPAddress?: unknown;
  readonly userAgent?: unknown;
  readonly errorCode?: unknown;
  readonly errorMessage?: unknown;
  readonly readOnly?: unknown;
  readonly managementEvent?: unknown;
  readonly requestParameters?: unknown;
  readonly resources?: unknown;
  readonly userIdentity?: {
    readonly type?: unknown;
    readonly arn?: unknown;
    readonly principalId?: unknown;
    readonly accountId?: unknown;
  };
}

const str = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 ? (v.length > max ? `${v.slice(0, max - 1)}…` : v) : undefined;
const bool = (v: unknown): boolean | undefined =>
  typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;

/** A record that cannot be an API call CloudTrail reported: it is rejected, never stored. */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

/** `eventTime` as ISO 8601 UTC whole seconds, or throws. */
export function normalizeEventTime(raw: unknown): string {
  const ms = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw new MalformedRecordError('eventTime is missing or not a time');
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The facts of a call, before it is tied to a grant. */
export interface ParsedCall {
  readonly eventId: string;
  readonly eventTime: string;
  readonly identityArn: string;
  readonly principalId?: string;
  readonly record: CloudTrailRecord;
}

/** Checks the fields every API-call record has. @throws MalformedRecordError */
export function parseCall(record: unknown): ParsedCall {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new MalformedRecordError('the CloudTrail record is not an object');
  const r = record as CloudTrailRecord;
  const eventId = typeof r.eventID === 'string' && /^[\w-]{1,128}$/.test(r.eventID) ? r.eventID : undefined;
  if (!eventId) throw new MalformedRecordError('eventID is missing or malformed');
  if (typeof r.eventSource !== 'string' || typeof r.eventName !== 'string')
    throw new MalformedRecordError('eventSource or eventName is missing');
  const eventTime = normalizeEventTime(r.eventTime);
  const identityArn = typeof r.userIdentity?.arn === 'string' ? r.userIdentity.arn : '';
  const principalId = typeof r.userIdentity?.principalId === 'string' ? r.userIdentity.principalId : undefined;
  return { eventId, eventTime, identityArn, ...(principalId ? { principalId } : {}), record: r };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The grant a profile-role session names: `arn:…:assumed-role/<role>/bg-<grantId>` or principal id
 * `AROA…:bg-<grantId>`. Returns the grant id and the role name (when the ARN shows it).
 */
export function grantOfSession(
  call: Pick<ParsedCall, 'identityArn' | 'principalId'>,
): { grantId: string; roleName?: string } | undefined {
  const arn = /^arn:[\w-]+:sts::\d{12}:assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/.exec(call.identityArn);
  const session =
    arn?.[2] ??
    (call.principalId?.includes(':') ? call.principalId.slice(call.principalId.indexOf(':') + 1) : undefined);
  if (!session?.startsWith(SESSION_PREFIX)) return undefined;
  const grantId = session.slice(SESSION_PREFIX.length);
  if (!UUID.test(grantId)) return undefined;
  return { grantId, ...(arn ? { roleName: arn[1]! } : {}) };
}

/** Drops secret-named fields at every depth; returns the kept value and the dropped paths. */
export function redact(value: unknown, path = ''): { value: unknown; redacted: string[] } {
  const redacted: string[] = [];
  const walk = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${at}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(v as Record<string, unknown>)) {
      const here = at ? `${at}.${key}` : key;
      if (isSecretName(key)) {
        redacted.push(here);
        continue;
      }
      out[key] = walk(inner, here);
    }
    return out;
  };
  return { value: walk(value, path), redacted };
}

export function isSecretName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_MARKERS.some((marker) => normalized.includes(marker));
}

function shrink(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING - 1)}…` : value;
  if (Array.isArray(value))
    return (value.length > MAX_ARRAY ? [...value.slice(0, MAX_ARRAY), `…${value.length - MAX_ARRAY} more`] : value).map(
      shrink,
    );
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shrink(v)]));
}

/** Cuts UTF-8 text to at most `max` bytes without splitting a character. */
function cutBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
  return bytes.subarray(0, end).toString('utf8');
}

/** Redacted, bounded request parameters: what a record keeps. */
export function boundedRequest(parameters: unknown): {
  requestParameters?: string;
  requestTruncated?: boolean;
  redactedFields?: string[];
} {
  if (parameters === undefined || parameters === null) return {};
  const { value, redacted } = redact(parameters);
  const kept = redacted.length ? { redactedFields: redacted.slice(0, MAX_REDACTED) } : {};
  let text = canonicalJson(value);
  if (Buffer.byteLength(text, 'utf8') <= MAX_REQUEST_BYTES) return { requestParameters: text, ...kept };
  text = canonicalJson(shrink(value));
  if (Buffer.byteLength(text, 'utf8') > MAX_REQUEST_BYTES) text = `${cutBytes(text, MAX_REQUEST_BYTES - 3)}…`;
  return { requestParameters: text, requestTruncated: true, ...kept };
}

/** ARNs the call touched: CloudTrail's `resources[]`, else what the request names (S3 bucket/key, `arn:` values). */
export function resourcesOf(record: CloudTrailRecord): string[] {
  const listed = Array.isArray(record.resources)
    ? record.resources
        .map((r) =>
          typeof r === 'object' && r !== null
            ? ((r as Record<string, unknown>).ARN ?? (r as Record<string, unknown>).arn)
            : undefined,
        )
        .filter((a): a is string => typeof a === 'string' && a.length > 0)
    : [];
  const derived: string[] = [];
  const params = record.requestParameters;
  if (!listed.length && typeof params === 'object' && params !== null && !Array.isArray(params)) {
    const p = params as Record<string, unknown>;
    if (typeof p.bucketName === 'string')
      derived.push(`arn:aws:s3:::${p.bucketName}${typeof p.key === 'string' ? `/${p.key}` : ''}`);
    for (const [key, v] of Object.entries(p))
      if (!isSecretName(key) && typeof v === 'string' && v.startsWith('arn:')) derived.push(v);
  }
  return [...new Set([...listed, ...derived])]
    .slice(0, MAX_RESOURCES)
    .map((a) => (a.length > 1024 ? `${a.slice(0, 1023)}…` : a));
}

/** The last second a grant was usable: its expiry, or its end if it ended earlier (revoked). */
export function endSecondOf(grant: { expiresAt: string; endedAt?: string }): string {
  const ends = [Date.parse(grant.expiresAt), ...(grant.endedAt ? [Date.parse(grant.endedAt)] : [])].filter(
    (n) => !Number.isNaN(n),
  );
  const ms = Math.min(...ends);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The record kept for a call attributed to a grant. */
export function composeActivity(
  call: ParsedCall,
  context: { grantId: string; attribution: 'session' | 'userid'; endSecond: string; capturedAt: string },
): ActivityRecord {
  const r = call.record;
  const content = {
    grantId: context.grantId,
    eventId: call.eventId,
    eventTime: call.eventTime,
    capturedAt: context.capturedAt,
    account: str(r.recipientAccountId, 12) ?? str(r.userIdentity?.accountId, 12) ?? 'unknown',
    region: str(r.awsRegion, 32) ?? 'unknown',
    service: str(r.eventSource, 128)!,
    action: str(r.eventName, 128)!,
    ...(bool(r.readOnly) !== undefined ? { readOnly: bool(r.readOnly)! } : {}),
    ...(bool(r.managementEvent) !== undefined ? { managementEvent: bool(r.managementEvent)! } : {}),
    resources: resourcesOf(r),
    ...(str(r.sourceIPAddress, 128) ? { sourceIp: str(r.sourceIPAddress, 128)! } : {}),
    ...(str(r.userAgent, 256) ? { userAgent: str(r.userAgent, 256)! } : {}),
    ...(str(r.errorCode, 128) ? { errorCode: str(r.errorCode, 128)! } : {}),
    ...(str(r.errorMessage, 512) ? { errorMessage: str(r.errorMessage, 512)! } : {}),
    ...boundedRequest(r.requestParameters),
    identity: str(call.identityArn, 2048) ?? str(call.principalId, 256) ?? 'unknown',
    attribution: context.attribution,
    // Whole seconds on both sides: a call in the end second itself was still inside the policy's window edge.
    afterEnd: call.eventTime > context.endSecond,
  };
  return { ...content, hash: activityHash(content) };
}

/** Attributes not covered by a record's hash. */
const UNHASHED = new Set(['pk', 'sk', 'hash']);

export function activityHash(record: object): string {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!UNHASHED.has(key)) content[key] = value;
  return sha256Hex(canonicalJson(content));
}

/** Where a record sorts within its grant: by call time, then CloudTrail's event id. */
export function activitySortKey(record: Pick<ActivityRecord, 'eventTime' | 'eventId'>): string {
  return `CALL#${record.eventTime}#${record.eventId}`;
}

/**
 * A Merkle root over a grant's records, leaves ordered by {@link activitySortKey}: the same set of
 * records gives the same root whatever order CloudTrail delivered them in. Leaves are the records'
 * stored hashes; an odd node is carried up unchanged.
 */
export function activityDigest(
  grantId: string,
  records: readonly Pick<ActivityRecord, 'eventTime' | 'eventId' | 'hash'>[],
): { calls: number; root: string } {
  let level = [...records]
    .sort((a, b) => (activitySortKey(a) < activitySortKey(b) ? -1 : 1))
    .map((r) => sha256Hex(`leaf:${r.hash}`));
  if (!level.length) return { calls: 0, root: sha256Hex(`breakglass/activity/v1:${grantId}:empty`) };
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? sha256Hex(`node:${level[i]}${level[i + 1]}`) : level[i]!);
    level = next;
  }
  return { calls: records.length, root: sha256Hex(`breakglass/activity/v1:${grantId}:${level[0]}`) };
}

export type ActivityVerdict =
  | { readonly ok: true; readonly calls: number; readonly root: string }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks a grant's records against themselves and its summary: every record's content matches its
 * hash, and the summary counts as many calls as exist (a deleted record shows).
 */
export function verifyActivity(
  summary: Pick<ActivitySummary, 'grantId' | 'calls'>,
  records: readonly ActivityRecord[],
): ActivityVerdict {
  for (const record of records) {
    if (record.hash !== activityHash(record))
      return { ok: false, problem: `the record of call ${record.eventId} was changed after it was written` };
  }
  if (summary.calls !== records.length)
    return { ok: false, problem: `the summary counts ${summary.calls} calls but ${records.length} records exist` };
  if (records.some((r) => r.grantId !== summary.grantId))
    return { ok: false, problem: `a record of another grant is stored under grant ${summary.grantId}` };
  const { calls, root } = activityDigest(summary.grantId, records);
  return { ok: true, calls, root };
}

/** The facts an audit event (`details`) carries to seal a grant's activity into its chain. */
export function activitySeal(grantId: string, records: readonly ActivityRecord[]): Record<string, string> {
  const { calls, root } = activityDigest(grantId, records);
  return { activityCalls: String(calls), activityDigest: root };
}
