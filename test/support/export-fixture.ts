/**
 * A synthetic DynamoDB export of the break-glass table, in the layout ExportTableToPointInTime
 * writes (or the local emulator's), for the audit report's tests and benchmark.
 *
 * Grants and events are written the way `DynamoGrantStore` writes them (`sealEvent`, the
 * anchor, one ledger number per grant), so every chain verifies until a tamper breaks it. Items
 * are marshalled to DynamoDB JSON, spread at random over several gzipped data files and
 * shuffled within each; writes stream, so a million events need no more memory than a thousand.
 *
 * The layout follows AWS's documentation ("DynamoDB table export output format", Amazon
 * DynamoDB Developer Guide), not the emulator's output:
 *
 * ```
 * <dir>/<prefix>/AWSDynamoDB/<exportId>/_started               written first ("the export has begun")
 *                                       data/<name>.json.gz    full export: at least one file per partition,
 *                                                              an empty (0-byte) one for an empty partition
 *                                       manifest-files.json    written last, with manifest-summary.json;
 *                                       manifest-summary.json  each beside a checksum file (.md5 as seen in S3,
 *                                                              or .checksum as the guide names it)
 * <dir>/<prefix>/AWSDynamoDB/data/<name>.json.gz               incremental export: the shared data folder,
 *                                                              one change a line (Metadata, Keys, NewImage)
 * <dir>/<prefix>/AWSDynamoDB/<uuid4>/data/<uuid4>.gz           layout 'moto': no manifest, no _started
 * ```
 *
 * Export ids are `<14-digit epoch ms>-<8 hex>` (the guide's `01234567890123-a1b2c3d4`); data file
 * names 26 characters; `md5Checksum` is the base64 MD5 of the data file, and `etag` S3's
 * multipart ETag of a one-part upload, the MD5 of that digest with `-1` (the guide's example pairs
 * `sQMSpEILNgoQmarvDFonGQ==` with `af83d6f217c19b8b0fff8023d8ca4716-1`, which is exactly that).
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, type Gzip, constants as zlibConstants } from 'node:zlib';
import { marshall } from '@aws-sdk/util-dynamodb';
import { sealEvent } from '../../functions/domain/audit-chain.js';
import type { AuditEvent, NewAuditEvent } from '../../functions/domain/audit-event.js';
import { expiryFrom, type Grant, isoSeconds } from '../../functions/domain/grant.js';

/** How a grant's story ends in the fixture. */
export type FixtureOutcome = 'DENIED' | 'FAILED' | 'PENDING' | 'ACTIVE' | 'EXPIRED' | 'REVOKED';

/** Everything that decides one generated grant; the default per index can be overridden. */
export interface GrantPlan {
  readonly id: string;
  readonly outcome: FixtureOutcome;
  readonly profile: string;
  readonly principalArn: string;
  readonly reason: string;
  readonly ticket?: string;
  /** The account the grant is in, and its alias as recorded (many accounts). @default none */
  readonly account?: string;
  readonly accountAlias?: string;
  readonly createdAt: Date;
  readonly durationMinutes: number;
  /** EXTENDED events, each adding 30 minutes. */
  readonly extensions: number;
  /** When access ended, in seconds relative to the (extended) expiry: EXPIRED late by it, REVOKED early when negative. */
  readonly endOffsetSeconds: number;
  /** The review, if one was recorded (EXPIRED and REVOKED only). */
  readonly review?: 'justified' | 'unjustified';
  /** Seconds after the end that the review came. */
  readonly reviewAfterSeconds: number;
  /** More facts for the REVIEWED event's details, e.g. action logging's seal (`activityCalls`, `activityDigest`). */
  readonly reviewDetails?: Readonly<Record<string, string>>;
  /** ALERT_FAILED events after the first one, to reach a number of events per grant. */
  readonly fillerEvents: number;
}

/** Ways to tamper with the export after the fact, each addressed by grant index (0-based). */
export type Tamper =
  | { readonly kind: 'event-reason'; readonly grant: number; readonly seq: number; readonly reason?: string }
  | { readonly kind: 'delete-event'; readonly grant: number; readonly seq: number }
  | { readonly kind: 'delete-grant'; readonly grant: number }
  | { readonly kind: 'grant-reason'; readonly grant: number; readonly reason?: string }
  /** Any other field of the grant record (not hashed unless it is an anchor fact). */
  | { readonly kind: 'grant-field'; readonly grant: number; readonly field: string; readonly value: unknown };

/** What to generate: how many grants, how many events each, which layout, which tampers. */
export interface ExportFixtureOptions {
  /** The directory standing for the bucket. */
  readonly dir: string;
  /** The export's S3 prefix. @default 'exports/dt=2026-11-24' */
  readonly prefix?: string;
  readonly grants: number;
  /** Events per grant: filler events top each grant up to this many. @default 0 (no filler) */
  readonly eventsPerGrant?: number;
  /** Data files. @default max(3, one per 200,000 items) */
  readonly files?: number;
  /** @default 'aws' */
  readonly layout?: 'aws' | 'moto';
  /**
   * Layout 'aws': a full export (data under the export's folder, `exportTime` in the summary) or
   * an incremental one (data in the shared `AWSDynamoDB/data/`, one change a line, a summary
   * with `exportFromTime`/`exportToTime` and no `exportTime`). @default 'FULL_EXPORT'
   */
  readonly exportType?: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
  /** Layout 'aws': false leaves the export as one still running or failed leaves it: `_started` and data, no manifest. @default true */
  readonly finished?: boolean;
  /** Layout 'aws': more data files for empty partitions, each 0 bytes and listed with `itemCount: 0`. @default 0 */
  readonly emptyPartitions?: number;
  /** Layout 'aws': how the manifests' checksum files are named and written; false writes none. @default { name: 'md5', encoding: 'base64' } */
  readonly checksumFiles?: { readonly name: 'md5' | 'checksum'; readonly encoding: 'base64' | 'hex' } | false;
  /** Seed of the generator: the same options give the same export. @default 1 */
  readonly seed?: number;
  readonly exportId?: string;
  /** @default ten minutes after the last grant was created */
  readonly exportTime?: Date;
  /** Adjusts the default plan of a grant. */
  readonly plan?: (index: number, defaults: GrantPlan) => GrantPlan;
  readonly tamper?: readonly Tamper[];
  /** The ledger counter's value; `null` leaves the counter out. @default the number of grants */
  readonly ledgerLast?: number | null;
  /** Ledger numbers recorded as voided by the store (`LEDGER` / `VOID#<n>`: a first write that failed). @default none */
  readonly voided?: readonly number[];
  /** Keep what was generated, per grant, for assertions. @default true */
  readonly collect?: boolean;
  /** More table items, e.g. action logging's (`ACTIVITY#<grant>`), made from the planned grants. @default none */
  readonly extraItems?: (grants: readonly GrantPlan[]) => ReadonlyArray<Record<string, unknown>>;
}

/** What the report should say about a generated grant (before any tamper). */
export interface GeneratedGrant {
  readonly index: number;
  readonly plan: GrantPlan;
  readonly sequence: number;
  readonly status: string;
  readonly expiresAt: string;
  readonly endedAt: string | undefined;
  readonly lateSeconds: number | null;
  readonly review: string;
  readonly reviewState: string | undefined;
  readonly events: number;
}

/** Where the export was written and what it holds. */
export interface ExportFixture {
  readonly prefixDir: string;
  /** `<prefix>/AWSDynamoDB/<exportId>` */
  readonly exportDir: string;
  readonly summaryPath: string | undefined;
  readonly exportType: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
  readonly exportId: string;
  readonly exportArn: string;
  readonly exportTime: string;
  readonly items: number;
  readonly grantItems: number;
  readonly events: number;
  /** Data files, as paths. */
  readonly dataFiles: readonly string[];
  readonly grants: readonly GeneratedGrant[];
}

/** Deterministic random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (random: () => number, n: number) =>
  Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
const uuid = (random: () => number) =>
  `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
const name = (random: () => number, n: number) =>
  Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(random() * 36)]).join('');

/** When the first generated grant is created; each next one a minute later. */
export const FIXTURE_START = new Date('2026-11-01T00:00:00.000Z');
const ACCOUNT = '123456789012';

/** The plan a grant gets unless the caller adjusts it. */
export function defaultPlan(index: number, total: number, random: () => number): GrantPlan {
  const id = uuid(random);
  const createdAt = new Date(FIXTURE_START.getTime() + index * 60_000);
  const r = random();
  const last = index >= total - 3; // the newest few are still ACTIVE at export time
  const outcome: FixtureOutcome =
    index % 50 === 7 ? 'DENIED' : index % 50 === 13 ? 'FAILED' : last ? 'ACTIVE' : r < 0.7 ? 'EXPIRED' : 'REVOKED';
  const prod = random() < 0.3;
  const durationMinutes = random() < 0.5 ? 30 : 60;
  const extensions = outcome === 'EXPIRED' && random() < 0.1 ? 1 : 0;
  const late = index % 97 === 5 ? 900 : Math.floor(random() * 60);
  const endOffsetSeconds =
    outcome === 'EXPIRED'
      ? late
      : outcome === 'REVOKED'
        ? -(60 + Math.floor(random() * (durationMinutes * 60 - 120)))
        : 0;
  const reviewed = (outcome === 'EXPIRED' || outcome === 'REVOKED') && random() < 0.8;
  const principalArn =
    outcome === 'DENIED'
      ? `arn:aws:sts::${ACCOUNT}:assumed-role/Intruder/mallory${index % 3}`
      : `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/user${index % 20}`;
  return {
    id,
    outcome,
    profile: prod ? 'prod-db-admin' : 'demo',
    principalArn,
    reason: `checkout is failing for all users (incident ${index})`,
    ...(prod ? { ticket: `INC-${1000 + index}` } : {}),
    createdAt,
    durationMinutes,
    extensions,
    endOffsetSeconds,
    ...(reviewed ? { review: random() < 0.9 ? ('justified' as const) : ('unjustified' as const) } : {}),
    reviewAfterSeconds: 3600 + Math.floor(random() * 2 * 86_400),
    fillerEvents: 0,
  };
}

const BASE_EVENTS: Record<FixtureOutcome, number> = {
  DENIED: 1,
  FAILED: 2,
  PENDING: 1,
  ACTIVE: 2,
  EXPIRED: 3,
  REVOKED: 3,
};

type StoredItem = Record<string, unknown>;

/** Builds one grant's items exactly as the store writes them: the record, then its events. */
export function buildGrant(plan: GrantPlan, sequence: number): { grant: Grant; events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  const created = plan.createdAt;
  const at = (ms: number) => new Date(created.getTime() + ms).toISOString();
  const denied = plan.outcome === 'DENIED';
  let expiresAt = denied ? created.toISOString() : isoSeconds(expiryFrom(created, plan.durationMinutes));
  const target = plan.principalArn.split('/')[1] ?? 'Responder';
  let grant: Grant = {
    id: plan.id,
    profile: plan.profile,
    owner: plan.profile === 'prod-db-admin' ? 'data-platform@example.com' : 'platform-team@example.com',
    principalArn: plan.principalArn,
    targetType: 'role',
    targetName: target,
    ...(plan.account ? { account: plan.account } : {}),
    ...(plan.accountAlias ? { accountAlias: plan.accountAlias } : {}),
    status: denied ? 'DENIED' : 'PENDING',
    reason: plan.reason,
    ...(plan.ticket ? { ticket: plan.ticket } : {}),
    durationMinutes: plan.durationMinutes,
    createdAt: created.toISOString(),
    expiresAt,
    ...(denied ? { endedAt: created.toISOString() } : {}),
    policyName: denied ? '' : `breakglass-${plan.id}`,
    scheduleName: denied ? '' : plan.id,
    ...(denied ? {} : { grants: 's3:GetObject on arn:aws:s3:::demo-incident-logs/*', extensions: 0 }),
    version: 0,
    eventCount: 0,
    requestId: `req-${plan.id.slice(0, 8)}`,
  };
  const actor = plan.principalArn;
  const base = { actor, requestId: grant.requestId! };

  // create: the ledger number and the first event, in one transaction
  const first: NewAuditEvent = denied
    ? {
        ...base,
        type: 'DENIED',
        at: at(0),
        reason: plan.reason,
        outcome: 'FAILURE',
        details: { why: "not in the profile's eligible principals" },
      }
    : {
        ...base,
        type: 'REQUESTED',
        at: at(0),
        reason: plan.reason,
        outcome: 'SUCCESS',
        details: { expiresAt, durationMinutes: String(plan.durationMinutes) },
      };
  const numbered = { ...grant, sequence, eventCount: 0 };
  const sealed = sealEvent(numbered, first);
  events.push(sealed);
  grant = { ...numbered, eventCount: 1, lastHash: sealed.hash };
  const append = (event: NewAuditEvent, changes: Partial<Grant> = {}) => {
    const next = sealEvent(grant, event);
    events.push(next);
    grant = { ...grant, ...changes, version: grant.version + 1, eventCount: next.seq, lastHash: next.hash };
  };

  for (let i = 0; i < plan.fillerEvents; i++) {
    append({
      type: 'ALERT_FAILED',
      at: at(1_000 + i),
      actor: 'system:notifier',
      outcome: 'FAILURE',
      details: { alertFor: first.type, error: 'Throttling: Rate exceeded' },
    });
  }
  if (denied || plan.outcome === 'PENDING') return { grant, events };
  if (plan.outcome === 'FAILED') {
    const now = at(3_000);
    append(
      {
        ...base,
        type: 'ACTIVATION_FAILED',
        at: now,
        outcome: 'FAILURE',
        details: { step: 'AttachPolicy', error: 'LimitExceeded: Cannot exceed quota for PolicySize' },
      },
      { status: 'FAILED', endedAt: now },
    );
    return { grant, events };
  }
  append(
    {
      ...base,
      type: 'ACTIVATED',
      at: at(2_000),
      reason: plan.reason,
      outcome: 'SUCCESS',
      details: { expiresAt, policyName: grant.policyName, target: `role/${target}` },
    },
    { status: 'ACTIVE' },
  );
  for (let i = 0; i < plan.extensions; i++) {
    const to = isoSeconds(new Date(Date.parse(expiresAt) + 30 * 60_000));
    append(
      {
        ...base,
        type: 'EXTENDED',
        at: at(10 * 60_000 + i),
        reason: 'still investigating',
        outcome: 'SUCCESS',
        details: { from: expiresAt, to, minutes: '30' },
      },
      { expiresAt: to, extensions: i + 1, durationMinutes: grant.durationMinutes + 30 },
    );
    expiresAt = to;
  }
  if (plan.outcome === 'ACTIVE') return { grant, events };
  const end = new Date(Date.parse(expiresAt) + plan.endOffsetSeconds * 1000).toISOString();
  if (plan.outcome === 'EXPIRED') {
    append(
      {
        type: 'EXPIRED',
        at: end,
        actor: 'system:expiry',
        outcome: 'SUCCESS',
        details: { policyName: grant.policyName, expiresAt, lateBySeconds: String(Math.max(0, plan.endOffsetSeconds)) },
      },
      { status: 'EXPIRED', endedAt: end, reviewState: 'DUE' },
    );
  } else {
    append(
      {
        ...base,
        type: 'REVOKED',
        at: end,
        reason: 'incident resolved',
        outcome: 'SUCCESS',
        details: { by: 'requester', policyName: grant.policyName },
      },
      { status: 'REVOKED', endedAt: end, endedBy: actor, endReason: 'incident resolved', reviewState: 'DUE' },
    );
  }
  if (plan.review) {
    const reviewer = `arn:aws:sts::${ACCOUNT}:assumed-role/Security/reviewer`;
    const reviewedAt = new Date(Date.parse(end) + plan.reviewAfterSeconds * 1000).toISOString();
    append(
      {
        type: 'REVIEWED',
        at: reviewedAt,
        actor: reviewer,
        outcome: 'SUCCESS',
        details: { outcome: plan.review, notes: 'checked the CloudTrail of the session', ...plan.reviewDetails },
      },
      { reviewState: 'DONE', reviewOutcome: plan.review, reviewedBy: reviewer, reviewedAt },
    );
  }
  return { grant, events };
}

/** One gzipped data file that shuffles what it is given (a bounded shuffle buffer). */
class ShuffledGzipFile {
  readonly path: string;
  items = 0;
  private readonly gzip: Gzip;
  private readonly done: Promise<unknown>;
  private readonly md5 = createHash('md5');
  private readonly pending: string[] = [];
  private chunk: string[] = [];
  private chunkSize = 0;

  constructor(
    path: string,
    private readonly random: () => number,
    private readonly window = 256,
  ) {
    this.path = path;
    this.gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    const out = createWriteStream(path);
    this.gzip.on('data', (chunk: Buffer) => this.md5.update(chunk));
    this.gzip.pipe(out);
    this.done = once(out, 'close');
  }

  async add(line: string): Promise<void> {
    this.items++;
    if (this.pending.length < this.window) {
      this.pending.push(line);
      return;
    }
    const at = Math.floor(this.random() * this.window);
    const out = this.pending[at]!;
    this.pending[at] = line;
    await this.emit(out);
  }

  private async emit(line: string): Promise<void> {
    this.chunk.push(line);
    this.chunkSize += line.length;
    if (this.chunkSize > 64 * 1024) await this.flushChunk();
  }

  private async flushChunk(): Promise<void> {
    if (!this.chunk.length) return;
    const text = `${this.chunk.join('\n')}\n`;
    this.chunk = [];
    this.chunkSize = 0;
    if (!this.gzip.write(text)) await once(this.gzip, 'drain');
  }

  /** Finishes the file; resolves with its MD5 (base64, as the manifest has it, and hex) and the raw digest. */
  async close(): Promise<{ base64: string; hex: string; raw: Buffer }> {
    while (this.pending.length) {
      const at = Math.floor(this.random() * this.pending.length);
      await this.emit(this.pending[at]!);
      this.pending[at] = this.pending[this.pending.length - 1]!;
      this.pending.pop();
    }
    await this.flushChunk();
    this.gzip.end();
    await this.done;
    const digest = this.md5.digest();
    return { base64: digest.toString('base64'), hex: digest.toString('hex'), raw: digest };
  }
}

const line = (item: StoredItem) => JSON.stringify({ Item: marshall(item, { removeUndefinedValues: true }) });

/** An incremental export's line for an item inserted in its window: `Metadata`, `Keys`, `NewImage` (no `OldImage`). */
const changeLine = (item: StoredItem) =>
  JSON.stringify({
    Metadata: {
      WriteTimestampMicros: {
        N: String(Date.parse(typeof item.createdAt === 'string' ? item.createdAt : FIXTURE_START.toISOString()) * 1000),
      },
    },
    Keys: marshall({ pk: item.pk, sk: item.sk }),
    NewImage: marshall(item, { removeUndefinedValues: true }),
  });

/** S3's ETag of a one-part multipart upload: the MD5 of the part's MD5, and `-1`. */
const multipartEtag = (md5: Buffer) => `${createHash('md5').update(md5).digest('hex')}-1`;

/** Writes the export and returns where it is and what it holds. */
export async function writeExportFixture(options: ExportFixtureOptions): Promise<ExportFixture> {
  const random = seededRandom(options.seed ?? 1);
  const prefix = options.prefix ?? 'exports/dt=2026-11-24';
  const layout = options.layout ?? 'aws';
  const exportId =
    options.exportId ??
    (layout === 'moto' ? uuid(random) : `0${1_700_000_000_000 + Math.floor(random() * 1e9)}-${hex(random, 8)}`);
  const exportDir = join(options.dir, ...prefix.split('/'), 'AWSDynamoDB', exportId);
  const exportType = options.exportType ?? 'FULL_EXPORT';
  const incremental = layout === 'aws' && exportType === 'INCREMENTAL_EXPORT';
  const dataDir = incremental
    ? join(options.dir, ...prefix.split('/'), 'AWSDynamoDB', 'data')
    : join(exportDir, 'data');
  mkdirSync(exportDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const toLine = incremental ? changeLine : line;
  const perGrant = options.eventsPerGrant ?? 0;
  const approxItems = options.grants * (1 + Math.max(perGrant, 3));
  const fileCount = layout === 'moto' ? 1 : Math.max(1, options.files ?? Math.max(3, Math.ceil(approxItems / 200_000)));
  const files = Array.from(
    { length: fileCount },
    () =>
      new ShuffledGzipFile(
        join(dataDir, layout === 'moto' ? `${uuid(random)}.gz` : `${name(random, 26)}.json.gz`),
        seededRandom(Math.floor(random() * 2 ** 31)),
      ),
  );
  const put = (item: StoredItem) => files[Math.floor(random() * fileCount)]!.add(toLine(item));

  const tampers = new Map<number, Tamper[]>();
  for (const t of options.tamper ?? []) tampers.set(t.grant, [...(tampers.get(t.grant) ?? []), t]);
  const collect = options.collect ?? true;
  const generated: GeneratedGrant[] = [];
  let events = 0;
  let grantItems = 0;
  let items = 0;
  let lastCreated = FIXTURE_START;
  const plans: GrantPlan[] = [];

  for (let index = 0; index < options.grants; index++) {
    const defaults = defaultPlan(index, options.grants, random);
    const planned = options.plan ? options.plan(index, defaults) : defaults;
    const plan = {
      ...planned,
      fillerEvents:
        planned.fillerEvents ||
        Math.max(0, perGrant - BASE_EVENTS[planned.outcome] - planned.extensions - (planned.review ? 1 : 0)),
    };
    if (plan.createdAt > lastCreated) lastCreated = plan.createdAt;
    plans.push(plan);
    const sequence = index + 1;
    const built = buildGrant(plan, sequence);
    let record: StoredItem | undefined = { pk: `GRANT#${plan.id}`, sk: 'GRANT', entity: 'grant', ...built.grant };
    let stored: Array<StoredItem | undefined> = built.events.map((e) => ({
      pk: `GRANT#${plan.id}`,
      sk: `EVENT#${String(e.seq).padStart(6, '0')}`,
      ...e,
    }));
    for (const t of tampers.get(index) ?? []) {
      if (t.kind === 'delete-grant') record = undefined;
      else if (t.kind === 'grant-reason')
        record = record && { ...record, reason: t.reason ?? `${plan.reason} (edited)` };
      else if (t.kind === 'grant-field') record = record && { ...record, [t.field]: t.value };
      else if (t.kind === 'delete-event') stored = stored.map((e) => (e && e.seq === t.seq ? undefined : e));
      else if (t.kind === 'event-reason')
        stored = stored.map((e) => (e && e.seq === t.seq ? { ...e, reason: t.reason ?? 'nothing to see here' } : e));
    }
    for (const item of [record, ...stored]) {
      if (!item) continue;
      await put(item);
      items++;
      if (item.sk === 'GRANT') grantItems++;
      else events++;
    }
    if (collect) {
      const g = built.grant;
      const lateSeconds =
        g.status === 'EXPIRED' || g.status === 'REVOKED'
          ? Math.round((Date.parse(g.endedAt!) - Date.parse(g.expiresAt)) / 1000)
          : null;
      const review =
        g.reviewOutcome ??
        (g.status === 'DENIED' || g.status === 'FAILED'
          ? 'not needed'
          : g.status === 'ACTIVE' || g.status === 'PENDING'
            ? 'not yet due'
            : 'unreviewed');
      generated.push({
        index,
        plan,
        sequence,
        status: g.status,
        expiresAt: g.expiresAt,
        endedAt: g.endedAt,
        lateSeconds,
        review,
        reviewState: g.reviewState,
        events: built.events.length,
      });
    }
  }

  // The rest of the table: the ledger counter, and items the report must skip.
  const ledgerLast = options.ledgerLast === undefined ? options.grants : options.ledgerLast;
  const others: StoredItem[] = [
    { pk: 'CONTROL#FREEZE', sk: 'STATE', all: false, profiles: [], version: 1 },
    { pk: 'CONTROL#FREEZE', sk: 'EVENT#000001', type: 'FREEZE_CHANGED', all: false, profiles: [], version: 1 },
    {
      pk: 'IDEMPOTENCY#0f1e2d',
      sk: 'KEY',
      key: '0f1e2d',
      grantId: 'x',
      fingerprint: 'abc',
      createdAt: FIXTURE_START.toISOString(),
    },
    { pk: 'LOCK#activation/x/demo', sk: 'LEASE', owner: 'o', leaseUntil: 0 },
    ...(ledgerLast === null ? [] : [{ pk: 'LEDGER', sk: 'SEQUENCE', last: ledgerLast }]),
    ...(options.voided ?? []).map((n) => ({
      pk: 'LEDGER',
      sk: `VOID#${String(n).padStart(12, '0')}`,
      sequence: n,
      grantId: `void-${n}`,
      at: FIXTURE_START.toISOString(),
      error: 'ThrottlingException: Rate exceeded',
    })),
  ];
  for (const item of [...others, ...(options.extraItems?.(plans) ?? [])]) {
    await put(item);
    items++;
  }

  const checksums: Array<{ base64: string; hex: string; raw: Buffer }> = [];
  for (const file of files) checksums.push(await file.close());
  const exportTime = (options.exportTime ?? new Date(lastCreated.getTime() + 10 * 60_000)).toISOString();
  const exportArn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/breakglass/export/${exportId}`;
  let summaryPath: string | undefined;
  const dataPaths = files.map((f) => f.path);
  if (layout === 'aws') {
    writeFileSync(join(exportDir, '_started'), '');
    const entries = files.map((f, i) => ({ path: f.path, items: f.items, md5: checksums[i]!.raw }));
    for (let i = 0; i < (options.emptyPartitions ?? 0); i++) {
      const path = join(dataDir, `${name(random, 26)}.json.gz`);
      writeFileSync(path, ''); // "For partitions that are empty, your export request will create an empty file."
      entries.push({ path, items: 0, md5: createHash('md5').digest() });
      dataPaths.push(path);
    }
    if (options.finished ?? true) {
      const folderKey = `${prefix}/AWSDynamoDB/${exportId}`;
      const dataKey = incremental ? `${prefix}/AWSDynamoDB/data` : `${folderKey}/data`;
      const manifestFiles = `${entries
        .map((e) =>
          JSON.stringify({
            itemCount: e.items,
            md5Checksum: e.md5.toString('base64'),
            etag: multipartEtag(e.md5),
            dataFileS3Key: `${dataKey}/${e.path.slice(e.path.lastIndexOf('/') + 1)}`,
          }),
        )
        .join('\n')}\n`;
      const common = {
        tableArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/breakglass`,
        tableId: uuid(random),
      };
      const place = {
        s3Bucket: 'breakglass-audit',
        s3Prefix: prefix,
        s3SseAlgorithm: 'AES256',
        s3SseKmsKeyId: null,
        manifestFilesS3Key: `${folderKey}/manifest-files.json`,
        billedSizeBytes: items * 400,
        itemCount: items,
        outputFormat: 'DYNAMODB_JSON',
      };
      const summary = incremental
        ? {
            // The guide's incremental example: version 2023-08-01, a window instead of exportTime, the view type.
            version: '2023-08-01',
            exportArn,
            startTime: exportTime,
            endTime: new Date(Date.parse(exportTime) + 5 * 60_000).toISOString(),
            ...common,
            exportFromTime: new Date(Date.parse(exportTime) - 24 * 3600_000).toISOString(),
            exportToTime: exportTime,
            ...place,
            outputView: 'NEW_AND_OLD_IMAGES',
            exportType: 'INCREMENTAL_EXPORT',
          }
        : {
            version: '2020-06-30',
            exportArn,
            startTime: exportTime,
            endTime: new Date(Date.parse(exportTime) + 5 * 60_000).toISOString(),
            ...common,
            exportTime,
            ...place,
            exportType: 'FULL_EXPORT',
          };
      const summaryText = JSON.stringify(summary);
      writeFileSync(join(exportDir, 'manifest-files.json'), manifestFiles);
      summaryPath = join(exportDir, 'manifest-summary.json');
      writeFileSync(summaryPath, summaryText);
      const checksum = options.checksumFiles ?? { name: 'md5', encoding: 'base64' };
      if (checksum) {
        const digest = (text: string) => createHash('md5').update(text).digest(checksum.encoding);
        writeFileSync(join(exportDir, `manifest-files.${checksum.name}`), digest(manifestFiles));
        writeFileSync(join(exportDir, `manifest-summary.${checksum.name}`), digest(summaryText));
      }
    }
  }
  return {
    prefixDir: join(options.dir, ...prefix.split('/')),
    exportDir,
    summaryPath,
    exportType,
    exportId,
    exportArn,
    exportTime,
    items,
    grantItems,
    events,
    dataFiles: dataPaths,
    grants: generated,
  };
}

/** A reason no page may run or fetch: markup, a script end tag and a bidirectional override. */
export const HOSTILE_REASON = '<img src=x onerror="alert(1)"> </script><script>alert(2)</script> \u202Eevil';

/**
 * The export behind the report page's picture (`docs/audit-report.png`) and its browser test:
 * 24 grants over about 18 hours, two profiles, every kind of bar and tick (reviewed, unreviewed,
 * late, late and unreviewed, still active, denied, failed, an unjustified review, a missing
 * ticket), and one grant whose reason is {@link HOSTILE_REASON}. Deterministic: seed and plan fixed.
 */
export const PAGE_SAMPLE = {
  grants: 24,
  seed: 7,
  plan: (index: number, p: GrantPlan): GrantPlan => {
    const createdAt = new Date(FIXTURE_START.getTime() + index * 43 * 60_000);
    const outcome: FixtureOutcome = [4, 15, 19].includes(index)
      ? 'DENIED'
      : index === 12
        ? 'FAILED'
        : index >= 22
          ? 'ACTIVE'
          : index % 4 === 1
            ? 'REVOKED'
            : 'EXPIRED';
    const prod = index % 3 === 0;
    const late = index === 6 ? 1_500 : index === 14 ? 2_400 : index === 10 ? 600 : 20 + (index % 5) * 7;
    const principalArn =
      outcome === 'DENIED'
        ? `arn:aws:sts::123456789012:assumed-role/Intruder/mallory${index % 2}`
        : `arn:aws:sts::123456789012:assumed-role/Responder/user${index % 6}`;
    const review = [5, 10, 16, 17, 20].includes(index) ? undefined : index === 8 ? 'unjustified' : 'justified';
    return {
      ...p,
      outcome,
      profile: prod ? 'prod-db-admin' : 'demo',
      principalArn,
      ...(prod && index !== 18 ? { ticket: `INC-${4100 + index}` } : { ticket: undefined }),
      reason:
        index === 11
          ? HOSTILE_REASON
          : `checkout latency incident ${index}: ${['read replica lag', 'stuck payment queue', 'hot partition', 'expired TLS cert'][index % 4]}`,
      createdAt,
      durationMinutes: index % 2 || index >= 22 ? 60 : 30,
      extensions: index === 6 ? 1 : 0,
      endOffsetSeconds: outcome === 'REVOKED' ? -(600 + (index % 3) * 300) : late,
      ...(review ? { review: review as 'justified' | 'unjustified' } : { review: undefined }),
      reviewAfterSeconds: 7_200,
    };
  },
} as const satisfies Pick<ExportFixtureOptions, 'grants' | 'seed' | 'plan'>;

/** The as-of time the sample is reported at: late enough that its unreviewed grants are overdue. */
export const PAGE_SAMPLE_AS_OF = '2026-11-05T00:00:00Z';
