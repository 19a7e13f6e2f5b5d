/**
 * The compliance report over a DynamoDB table export, in bounded memory.
 *
 * Export files come in no particular order and a grant's events may be spread over several of
 * them, so the report never holds the export: it sorts it on disk.
 *
 * 1. locate — find the export and its data files (`export-source.ts`);
 * 2. spread — stream every data file once and append each grant or event item, as it came,
 *    to one of K temporary files chosen by a hash of the grant id (K from the manifest's item
 *    count, about 20,000 items a file); keep the ledger counter; cross-check counts per file;
 * 3. judge — load one of those files at a time, group it by grant, verify each chain and
 *    measure each grant (`grant-analysis.ts`); write findings to disk and each grant's row to
 *    a temporary file chosen by its ledger number;
 * 4. order — read the row files in ledger order, sorting one at a time: this finds the gaps in
 *    the ledger and streams the CSV, the JSON grants and the first rows of the Markdown table;
 * 5. write — report.json and report.md around the streamed parts (and report.html, with
 *    `html`), then move them all in place.
 *
 * Memory is bounded by one temporary file (K and the row ranges are sized for that), plus small
 * aggregates: counts, and denied attempts per principal. The page adds the events of the grants
 * it draws (at most {@link HTML_GRANT_LIMIT}, their events cut to a few dozen each): step 3
 * writes the page facts of the grants that may be among the newest beside their rows
 * ({@link NewestCandidates}), and step 4 keeps those of the newest only.
 */

import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { activityHash } from '../functions/domain/activity.js';
import type { SealedLeaf } from '../functions/domain/activity-seal.js';
import { acknowledgedRisks, type ProfileSet } from '../functions/domain/profile.js';
import { dataFileLines, type FileTally, md5Matches, type ResolvedExport, resolveExport } from './export-source.js';
import {
  FINDING_CODE_LIST,
  FINDING_CODES,
  type Finding,
  type FindingCode,
  type FindingSeverity,
  finding,
} from './findings.js';
import { type AuditPolicy, analyseGrant, analyseOrphans, type GrantRow } from './grant-analysis.js';
import {
  type ActivitySource,
  type ActivityTick,
  type ActivityWindow,
  compareLedger,
  type GrantTimeline,
  HTML_ACTIVITY_LIMIT,
  HTML_GRANT_LIMIT,
  NewestCandidates,
  type PageGrant,
  timelineOf,
  writeHtmlReport,
} from './html-report.js';
import type { ObjectStore } from './object-store.js';
import { hashString, PartitionedFile } from './partitioned-file.js';
import {
  CSV_HEADER,
  csvGrantRecord,
  MD_TABLE_HEADER,
  mdGrantRow,
  mdText,
  summaryFigures,
  TextSink,
} from './writers.js';

/** Items per temporary file in step 2 (the memory bound). */
export const ITEMS_PER_BUCKET = 20_000;
/** K when there is no manifest to size it from. */
export const BUCKETS_WITHOUT_MANIFEST = 64;
/** Rows of the per-grant table in report.md; the CSV has them all. */
export const MARKDOWN_ROW_LIMIT = 1_000;
/** The drill schedule's default period (monthly) with a day's slack: an older last drill is a finding. */
export const DEFAULT_DRILL_DAYS = 32;

/**
 * DRILL_STALE: the last drill finished more than `days` before the snapshot, or there is none although
 * the profiles given have a drill profile (without profiles, an export with no drill is not judged).
 */
export function staleDrill(
  last: { id: string; outcome: string; finishedAt: string } | undefined,
  at: Date,
  days: number,
  profiles: ProfileSet | undefined,
): Finding | undefined {
  if (!last) {
    if (!profiles?.profiles.some((p) => p.drill)) return undefined;
    return finding('DRILL_STALE', {
      message: `No drill on record although profile "${profiles.profiles.find((p) => p.drill)!.name}" is a drill profile: run breakglass drill (POST /drills) and check the drill schedule (docs/drills.md).`,
    });
  }
  const age = (at.getTime() - Date.parse(last.finishedAt)) / 86_400_000;
  if (!(age > days)) return undefined;
  return finding('DRILL_STALE', {
    message: `The last drill (${last.id}, ${last.outcome}) finished ${Math.floor(age)} days before the snapshot (${last.finishedAt}), more than ${days}: the break-glass path has not been rehearsed since. Run breakglass drill and check the drill schedule (docs/drills.md).`,
  });
}

/** Findings listed per code in report.md; the JSON has them all. */
export const MARKDOWN_FINDING_LIMIT = 200;
const MAX_BUCKETS = 1_024;

/** What to report on, where to write, and the policy to measure against. */
export interface ReportOptions {
  readonly store: ObjectStore;
  /** The key (or folder) the user named in the store. */
  readonly base: string;
  readonly outDir: string;
  readonly lateSeconds: number;
  readonly reviewDays: number;
  readonly asOf: Date;
  /** Profiles for the ticket rule; without them MISSING_TICKET is not checked. */
  readonly profiles?: ProfileSet;
  /** Where the profiles came from, for the report. */
  readonly profilesSource?: string;
  /** Parent of the temporary directory (default: the OS temp dir). */
  readonly tmpDir?: string;
  readonly clock?: () => Date;
  /** Items per temporary file (and ledger numbers per row range). @default {@link ITEMS_PER_BUCKET} */
  readonly itemsPerBucket?: number;
  /** Also write report.html. @default false */
  readonly html?: boolean;
  /** Grants report.html draws (the newest). @default {@link HTML_GRANT_LIMIT} */
  readonly htmlGrantLimit?: number;
  /** A drill older than this (days before the snapshot) is a DRILL_STALE finding. @default {@link DEFAULT_DRILL_DAYS} */
  readonly drillDays?: number;
  /** Activity ticks on report.html's bars (the action-log hook; nothing supplies it yet). */
  readonly activity?: ActivitySource;
}

/** The report's figures: what `summary` holds in report.json. */
export interface ReportSummary {
  readonly exportArn: string | null;
  readonly exportTime: string | null;
  readonly tableArn: string | null;
  readonly manifest: boolean;
  readonly dataFiles: number;
  readonly itemsRead: number;
  readonly itemsExpected: number | null;
  readonly itemsIgnored: number;
  readonly grants: number;
  readonly events: number;
  readonly byStatus: Record<string, number>;
  readonly chains: { readonly ok: number; readonly broken: number };
  readonly reviews: {
    readonly justified: number;
    readonly unjustified: number;
    readonly unreviewed: number;
    readonly overdue: number;
  };
  readonly lateRevocations: number;
  readonly ledger: {
    readonly counter: number | null;
    readonly missingNumbers: number;
    readonly ahead: number;
    readonly duplicates: number;
    readonly unnumbered: number /** Numbers whose first write failed, as the store recorded (`LEDGER`/`VOID#<n>`). */;
    readonly voided: number;
  };
  readonly deniedAttempts: number;
  readonly deniedPrincipals: number;
  readonly orphanEvents: number;
  /** Grants whose profile is not in the profiles given (their ticket rule was not checked); null without profiles. */
  readonly grantsOfUnknownProfiles: number | null;
  readonly findings: {
    readonly total: number;
    readonly bySeverity: Record<FindingSeverity, number>;
    readonly byCode: Partial<Record<FindingCode, number>>;
  };
  readonly policy: { readonly lateSeconds: number; readonly reviewDays: number; readonly profiles: string | null };
  readonly warnings: readonly string[];
}

/** Where the report was written, its figures, and what the run cost. */
export interface ReportResult {
  readonly summary: ReportSummary;
  readonly files: { readonly markdown: string; readonly csv: string; readonly json: string; readonly html?: string };
  readonly stats: {
    readonly itemsRead: number;
    readonly grants: number;
    readonly events: number;
    readonly seconds: number;
    readonly buckets: number;
  };
}

type Item = Record<string, unknown>;

/** Findings go to disk as they come (one file per code); only counts stay in memory. */
class FindingLog {
  readonly byCode = new Map<FindingCode, number>();
  readonly bySeverity: Record<FindingSeverity, number> = { HIGH: 0, MEDIUM: 0, LOW: 0 };
  private readonly file: PartitionedFile;

  constructor(dir: string) {
    this.file = new PartitionedFile(dir, 'findings', FINDING_CODE_LIST.length);
  }

  async add(item: Finding): Promise<void> {
    this.byCode.set(item.code, (this.byCode.get(item.code) ?? 0) + 1);
    this.bySeverity[item.severity] += 1;
    await this.file.add(FINDING_CODE_LIST.indexOf(item.code), JSON.stringify(item));
  }

  get total(): number {
    return this.bySeverity.HIGH + this.bySeverity.MEDIUM + this.bySeverity.LOW;
  }

  async flush(): Promise<void> {
    await this.file.flush();
  }

  /** The findings of one code, in the order they were found. */
  async *of(code: FindingCode): AsyncIterable<Finding> {
    for await (const line of this.file.read(FINDING_CODE_LIST.indexOf(code))) yield JSON.parse(line) as Finding;
  }
}

interface Denials {
  count: number;
  profiles: Set<string>;
  latest: string;
}

/** Runs steps 1–5 and leaves report.md, report.csv and report.json in `outDir`. */
export async function runReport(options: ReportOptions): Promise<ReportResult> {
  const started = performance.now();
  const clock = options.clock ?? (() => new Date());
  const tmp = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'breakglass-audit-'));
  try {
    // 1. locate (and make sure the report can be written before reading anything)
    await mkdir(options.outDir, { recursive: true });
    const resolved = await resolveExport(options.store, options.base);
    const findings = new FindingLog(tmp);
    for (const item of resolved.findings) await findings.add(item);

    // 2. spread
    const perBucket = Math.max(1, options.itemsPerBucket ?? ITEMS_PER_BUCKET);
    // report.html's activity ticks: the calls of the export's action log, a bounded number per grant and in all.
    const ticks = options.html && !options.activity ? new Map<string, ActivityTick[]>() : undefined;
    const spread = await spreadItems(options.store, resolved, tmp, findings, perBucket, ticks);

    // 3. judge
    const profiles = options.profiles;
    const policy: AuditPolicy = {
      lateSeconds: options.lateSeconds,
      reviewDays: options.reviewDays,
      asOf: options.asOf,
      // Open grants are judged at the snapshot (never later than the as-of time).
      snapshotAt: new Date(Math.min(options.asOf.getTime(), Date.parse(resolved.snapshotTime ?? '') || Infinity)),
      ticketRequired: (name) =>
        profiles ? profiles.profiles.find((p) => p.name === name)?.ticket.required : undefined,
      acknowledgedRisks: (name) => {
        const profile = profiles?.profiles.find((p) => p.name === name);
        return profile ? acknowledgedRisks(profile).map((r) => r.riskClass) : [];
      },
      activityLogged: spread.activityItems > 0,
    };
    const ranges = rowRanges(spread.ledgerLast, spread.maxSequence, spread.grants, perBucket);
    const pageLimit = Math.max(0, options.htmlGrantLimit ?? HTML_GRANT_LIMIT);
    const judged = await judgeGrants(
      spread.buckets,
      ranges,
      tmp,
      policy,
      findings,
      options.html ? pageLimit : undefined,
    );

    // 4. order
    const files = {
      markdown: join(options.outDir, 'report.md'),
      csv: join(options.outDir, 'report.csv'),
      json: join(options.outDir, 'report.json'),
      ...(options.html ? { html: join(options.outDir, 'report.html') } : {}),
    };
    const partial = {
      markdown: `${files.markdown}.partial`,
      csv: `${files.csv}.partial`,
      json: `${files.json}.partial`,
      html: `${join(options.outDir, 'report.html')}.partial`,
    };
    const page = judged.pages ? { facts: judged.pages, skip: Math.max(0, judged.rowCount - pageLimit) } : undefined;
    const ordered = await orderRows(
      judged.rows,
      ranges,
      spread.ledgerLast,
      spread.voided,
      spread.grants,
      tmp,
      partial.csv,
      findings,
      page,
    );
    for (const [principal, denied] of [...judged.denials.entries()].sort(
      (a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1),
    )) {
      await findings.add(
        finding('DENIED_ATTEMPTS', {
          principal,
          count: denied.count,
          message: `${principal} was denied ${denied.count} time(s) (profile${denied.profiles.size > 1 ? 's' : ''} ${[...denied.profiles].sort().join(', ')}; latest at ${denied.latest}). Ask them why: repeated attempts by someone not eligible can be probing; a responder denied during an incident may need a profile change.`,
        }),
      );
    }
    const stale = staleDrill(spread.lastDrill, policy.snapshotAt, options.drillDays ?? DEFAULT_DRILL_DAYS, profiles);
    if (stale) await findings.add(stale);
    await findings.flush();

    // 5. write
    const byCode: Partial<Record<FindingCode, number>> = {};
    for (const code of FINDING_CODE_LIST) if (findings.byCode.get(code)) byCode[code] = findings.byCode.get(code)!;
    const summary: ReportSummary = {
      exportArn: resolved.exportArn ?? null,
      exportTime: resolved.exportTime ?? null,
      tableArn: resolved.tableArn ?? null,
      manifest: resolved.hasManifest,
      dataFiles: resolved.dataFiles.length,
      itemsRead: spread.itemsRead,
      itemsExpected: resolved.expectedItems ?? null,
      itemsIgnored: spread.ignored,
      grants: ordered.rows,
      events: spread.events,
      byStatus: Object.fromEntries([...judged.byStatus.entries()].sort()),
      chains: { ok: judged.chainsOk, broken: judged.chainsBroken },
      reviews: { ...judged.reviews, overdue: findings.byCode.get('REVIEW_OVERDUE') ?? 0 },
      lateRevocations: findings.byCode.get('LATE_REVOCATION') ?? 0,
      ledger: { counter: spread.ledgerLast ?? null, ...ordered.ledger },
      deniedAttempts: [...judged.denials.values()].reduce((n, d) => n + d.count, 0),
      deniedPrincipals: judged.denials.size,
      orphanEvents: judged.orphanEvents,
      grantsOfUnknownProfiles: profiles ? judged.unknownProfiles : null,
      findings: { total: findings.total, bySeverity: { ...findings.bySeverity }, byCode },
      policy: {
        lateSeconds: options.lateSeconds,
        reviewDays: options.reviewDays,
        profiles: options.profilesSource ?? null,
      },
      warnings: [
        ...resolved.warnings,
        ...(!profiles
          ? ['No profiles were given: MISSING_TICKET was not checked.']
          : judged.unknownProfiles
            ? [
                `${judged.unknownProfiles} grant(s) belong to profiles not in ${options.profilesSource ?? 'the profiles given'}: their ticket rule was not checked.`,
              ]
            : []),
      ],
    };
    const generatedAt = clock().toISOString();
    await writeJson(
      partial.json,
      { generatedAt, asOf: options.asOf.toISOString(), source: resolved.source, summary },
      findings,
      ordered.grantsJson,
    );
    await writeMarkdown(
      partial.markdown,
      { generatedAt, asOf: options.asOf.toISOString(), source: resolved.source, summary },
      findings,
      ordered.markdownRows,
      ordered.rows,
    );
    if (files.html) {
      await writeHtmlReport(partial.html, {
        generatedAt,
        asOf: options.asOf.toISOString(),
        source: resolved.source,
        summary,
        snapshotAt: policy.snapshotAt,
        findingsOf: (code) => findings.of(code),
        grantsFile: ordered.pageGrants,
        grants: ordered.rows,
        ...(options.activity
          ? { activity: options.activity }
          : ticks?.size
            ? { activity: async (w: ActivityWindow) => ticks.get(w.grantId) ?? [] }
            : {}),
      });
      await rename(partial.html, files.html);
    }
    for (const key of ['csv', 'json', 'markdown'] as const) await rename(partial[key], files[key]);
    return {
      summary,
      files,
      stats: {
        itemsRead: spread.itemsRead,
        grants: ordered.rows,
        events: spread.events,
        seconds: (performance.now() - started) / 1000,
        buckets: spread.buckets.partitions,
      },
    };
  } catch (error) {
    await Promise.all(
      ['report.md', 'report.csv', 'report.json', 'report.html'].map((name) =>
        rm(join(options.outDir, `${name}.partial`), { force: true }),
      ),
    );
    throw error;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

interface Spread {
  readonly buckets: PartitionedFile;
  readonly itemsRead: number;
  readonly grants: number;
  readonly events: number;
  readonly ignored: number;
  /** Action logging's items in the export (`ACTIVITY#…`): when any, activity is judged. */
  readonly activityItems: number;
  readonly ledgerLast: number | undefined;
  readonly voided: ReadonlySet<number>;
  readonly maxSequence: number;
  /** The newest DRILL result in the export (`pk = DRILL`), if any. */
  readonly lastDrill?: { readonly id: string; readonly outcome: string; readonly finishedAt: string };
}

/** Step 2: every data file once, each grant's items to the bucket of its grant id. */
/** At most this many activity ticks are kept for report.html over the whole export (memory stays bounded). */
const MAX_ACTIVITY_TICKS = 100_000;

/**
 * One stored call as the leaf the review's seal covers (activity-seal.ts), a DynamoDB-JSON line of its own
 * (`sk` `LEAF#…`): the hash is recomputed from the item's content, so a call changed with its `hash` left as it
 * was shows too; an item that cannot be decoded gets a hash no content has.
 */
function activityLeaf(pk: string, sk: string, item: Record<string, unknown>): string {
  let record: Record<string, unknown> = {};
  let hash = 'undecodable';
  try {
    record = unmarshall(item as Record<string, AttributeValue>);
    hash = activityHash(record);
  } catch {
    // keeps the 'undecodable' hash: the digest cannot match
  }
  const s = (v: unknown) => ({ S: typeof v === 'string' ? v : '' });
  return JSON.stringify({
    Item: {
      pk: { S: pk },
      sk: { S: `LEAF#${sk.slice('CALL#'.length)}` },
      eventTime: s(record.eventTime),
      eventId: s(record.eventId),
      capturedAt: s(record.capturedAt),
      hash: { S: hash },
    },
  });
}

/** One stored call (DynamoDB JSON of an `ACTIVITY#<grant>`/`CALL#…` item) as a tick: when, and service:action (error). */
function activityTick(item: Readonly<Record<string, { S?: unknown } | undefined>>): ActivityTick | undefined {
  const str = (v: { S?: unknown } | undefined) => (typeof v?.S === 'string' ? v.S : undefined);
  const at = str(item.eventTime);
  if (!at || Number.isNaN(Date.parse(at))) return undefined;
  const service = (str(item.service) ?? '?').replace(/\.amazonaws\.com$/, '');
  const error = str(item.errorCode);
  return { at, label: `${service}:${str(item.action) ?? '?'}${error ? ` (${error})` : ''}` };
}

async function spreadItems(
  store: ObjectStore,
  resolved: ResolvedExport,
  tmp: string,
  findings: FindingLog,
  perBucket: number,
  ticks?: Map<string, ActivityTick[]>,
): Promise<Spread> {
  let tickCount = 0;
  const k =
    resolved.hasManifest && resolved.expectedItems !== undefined
      ? Math.min(MAX_BUCKETS, Math.max(1, Math.ceil(resolved.expectedItems / perBucket)))
      : BUCKETS_WITHOUT_MANIFEST;
  const buckets = new PartitionedFile(tmp, 'items', k);
  let itemsRead = 0;
  let grants = 0;
  let events = 0;
  let ignored = 0;
  let activityItems = 0;
  let ledgerLast: number | undefined;
  let ledgerItems = 0;
  /** Voided ledger numbers: few (one per failed first write), so a set. */
  const voided = new Set<number>();
  let maxSequence = 0;
  let lastDrill: Spread['lastDrill'];
  for (const file of resolved.dataFiles) {
    let count = 0;
    let malformed = 0;
    let firstMalformed = 0;
    const tally: FileTally = { bytes: 0 };
    for await (const line of dataFileLines(store, file.key, tally)) {
      if (!line.trim()) continue;
      count++;
      let item: Record<string, { S?: unknown; N?: unknown } | undefined> | undefined;
      try {
        item = (JSON.parse(line) as { Item?: typeof item }).Item;
      } catch {
        item = undefined;
      }
      const pk = item?.pk?.S;
      const sk = item?.sk?.S;
      if (typeof pk !== 'string' || typeof sk !== 'string') {
        malformed++;
        firstMalformed ||= count;
        continue;
      }
      if (pk.startsWith('GRANT#') && (sk === 'GRANT' || sk.startsWith('EVENT#'))) {
        if (sk === 'GRANT') {
          grants++;
          const sequence = Number(item!.sequence?.N);
          if (Number.isSafeInteger(sequence) && sequence > maxSequence) maxSequence = sequence;
        } else events++;
        await buckets.add(hashString(pk) % k, line);
      } else if (pk.startsWith('ACTIVITY#')) {
        // Action logging: a grant's summary travels to its grant's bucket, and each call as a leaf (sort key,
        // capture time, content hash: a few hundred bytes) for the review's seal; the calls stay in the table.
        activityItems++;
        const bucket = hashString(`GRANT#${pk.slice('ACTIVITY#'.length)}`) % k;
        if (sk === 'SUMMARY') await buckets.add(bucket, line);
        else if (sk.startsWith('CALL#')) await buckets.add(bucket, activityLeaf(pk, sk, item!));
        if (ticks && sk.startsWith('CALL#') && tickCount < MAX_ACTIVITY_TICKS) {
          const tick = activityTick(item!);
          const grantId = pk.slice('ACTIVITY#'.length);
          const list = ticks.get(grantId) ?? [];
          if (tick && list.length < HTML_ACTIVITY_LIMIT) {
            list.push(tick);
            ticks.set(grantId, list);
            tickCount++;
          }
        }
      } else if (pk === 'LEDGER' && sk.startsWith('VOID#')) {
        // A number taken by an activation whose first write failed (recorded by the store): not a gap.
        const sequence = Number(item!.sequence?.N);
        if (Number.isSafeInteger(sequence)) voided.add(sequence);
      } else if (pk === 'DRILL' && sk.startsWith('RESULT#')) {
        // A drill's result (drill.ts), as one JSON string: keep the newest.
        try {
          const result = JSON.parse(String(item!.result?.S)) as {
            id?: unknown;
            outcome?: unknown;
            finishedAt?: unknown;
          };
          if (typeof result.finishedAt === 'string' && (!lastDrill || result.finishedAt > lastDrill.finishedAt))
            lastDrill = { id: String(result.id), outcome: String(result.outcome), finishedAt: result.finishedAt };
        } catch {
          ignored++;
        }
      } else if (pk === 'LEDGER' && sk === 'SEQUENCE') {
        ledgerItems++;
        const last = Number(item!.last?.N);
        if (Number.isSafeInteger(last)) ledgerLast = Math.max(ledgerLast ?? 0, last);
      } else ignored++;
    }
    itemsRead += count;
    const where = store.describe(file.key);
    if (file.expectedItems !== undefined && count !== file.expectedItems) {
      await findings.add(
        finding('MANIFEST_MISMATCH', {
          file: where,
          count,
          message: `Data file ${where} holds ${count} items but the manifest says ${file.expectedItems}: the file was altered after the export. Compare it with its copy in the versioned bucket.`,
        }),
      );
    }
    if (file.md5Checksum !== undefined && tally.md5 && md5Matches(file.md5Checksum, tally.md5) !== true) {
      await findings.add(
        finding('MANIFEST_MISMATCH', {
          file: where,
          message: `Data file ${where} does not match the MD5 its manifest gives (md5Checksum ${file.md5Checksum}; the file's is ${tally.md5.toString('base64')}, ${tally.bytes} bytes): its bytes were changed after the export. Compare it with its copy in the versioned bucket.`,
        }),
      );
    }
    if (malformed) {
      await findings.add(
        finding('MANIFEST_MISMATCH', {
          file: where,
          count: malformed,
          message: `${malformed} line(s) of ${where} are not DynamoDB JSON items with a key (the first is line ${firstMalformed}): the file was altered or damaged. Compare it with its copy in the versioned bucket.`,
        }),
      );
    }
  }
  if (ledgerItems > 1) {
    await findings.add(
      finding('MANIFEST_MISMATCH', {
        count: ledgerItems,
        message: `The export holds the ledger counter (LEDGER/SEQUENCE) ${ledgerItems} times; a table holds one: data files were added or altered. The highest value was used.`,
      }),
    );
  }
  await buckets.flush();
  return {
    buckets,
    itemsRead,
    grants,
    events,
    ignored,
    activityItems,
    ledgerLast,
    maxSequence,
    voided,
    ...(lastDrill ? { lastDrill } : {}),
  };
}

/** How rows are spread by ledger number for step 4: value ranges in order, then the rest. */
interface RowRanges {
  /** Ledger numbers 1..limit fall into ranges; anything above or absent into the last partition. */
  readonly limit: number;
  readonly size: number;
  readonly count: number;
}

function rowRanges(ledgerLast: number | undefined, maxSequence: number, grants: number, perRange: number): RowRanges {
  // A tampered counter or sequence could be astronomically high: ranges cover what real data can
  // need, and numbers beyond fall into the last partition (they are findings anyway).
  const limit = Math.min(Math.max(ledgerLast ?? 0, maxSequence), 4 * grants + 1_000_000);
  const size = Math.max(perRange, Math.ceil(limit / MAX_BUCKETS));
  return { limit, size, count: (limit > 0 ? Math.ceil(limit / size) : 0) + 1 };
}

const rangeOf = (ranges: RowRanges, sequence: number | null): number =>
  sequence !== null && sequence <= ranges.limit ? Math.floor((sequence - 1) / ranges.size) : ranges.count - 1;

/** A grant's row and its findings, as step 3 leaves them for step 4. */
interface RowEntry {
  readonly row: GrantRow;
  readonly findings: readonly Finding[];
}

interface Judged {
  readonly rows: PartitionedFile;
  /** Rows written (one per grant record). */
  readonly rowCount: number;
  /** With the page: `{ line, timeline }` of the rows that may be drawn, in the partition of their row (`line`: the row's line there). */
  readonly pages: PartitionedFile | undefined;
  readonly byStatus: Map<string, number>;
  readonly chainsOk: number;
  readonly chainsBroken: number;
  readonly reviews: { justified: number; unjustified: number; unreviewed: number };
  readonly denials: Map<string, Denials>;
  readonly orphanEvents: number;
  readonly unknownProfiles: number;
}

/** Step 3: one bucket at a time, grouped by grant. */
async function judgeGrants(
  buckets: PartitionedFile,
  ranges: RowRanges,
  tmp: string,
  policy: AuditPolicy,
  findings: FindingLog,
  pageLimit: number | undefined,
): Promise<Judged> {
  const rows = new PartitionedFile(tmp, 'rows', ranges.count);
  const pages = pageLimit !== undefined ? new PartitionedFile(tmp, 'pages', ranges.count) : undefined;
  const candidates = new NewestCandidates(pageLimit ?? 0);
  const linesPerRange = new Array<number>(ranges.count).fill(0);
  let rowCount = 0;
  const byStatus = new Map<string, number>();
  const reviews = { justified: 0, unjustified: 0, unreviewed: 0 };
  const denials = new Map<string, Denials>();
  let chainsOk = 0;
  let chainsBroken = 0;
  let orphanEvents = 0;
  let unknownProfiles = 0;
  for (let b = 0; b < buckets.partitions; b++) {
    const groups = new Map<string, { records: Item[]; events: Item[]; activity?: Item; calls: SealedLeaf[] }>();
    for await (const line of buckets.read(b)) {
      const raw = (JSON.parse(line) as { Item: Record<string, AttributeValue> }).Item;
      let item: Item;
      try {
        item = unmarshall(raw);
      } catch (error) {
        await findings.add(
          finding('MANIFEST_MISMATCH', {
            grantId: String(raw.pk?.S ?? '').slice(6),
            message: `An item of ${String(raw.pk?.S)} / ${String(raw.sk?.S)} cannot be decoded (${error instanceof Error ? error.message : String(error)}): the data file was altered. Compare it with its copy in the versioned bucket.`,
          }),
        );
        continue;
      }
      const rawPk = item.pk as string;
      const isActivity = rawPk.startsWith('ACTIVITY#');
      const pk = isActivity ? `GRANT#${rawPk.slice('ACTIVITY#'.length)}` : rawPk;
      let group = groups.get(pk);
      if (!group) {
        group = { records: [], events: [], calls: [] };
        groups.set(pk, group);
      }
      if (isActivity && String(item.sk).startsWith('LEAF#')) group.calls.push(item as unknown as SealedLeaf);
      else if (isActivity) group.activity = item;
      else (item.sk === 'GRANT' ? group.records : group.events).push(item);
    }
    for (const [pk, group] of groups) {
      const grantId = pk.slice('GRANT#'.length);
      const record = group.records[0];
      if (!record && !group.events.length) continue; // activity of a grant not in this export
      if (!record) {
        orphanEvents += group.events.length;
        await findings.add(analyseOrphans(grantId, group.events));
        continue;
      }
      if (group.records.length > 1) {
        await findings.add(
          finding('MANIFEST_MISMATCH', {
            grantId,
            message: `The export holds the record of grant ${grantId} ${group.records.length} times; a table holds one: data files were added or altered. The first copy was used.`,
          }),
        );
      }
      const analysis = analyseGrant(record, group.events, policy, group.activity, group.calls);
      const row: GrantRow = analysis.row;
      byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
      if (analysis.chainOk) chainsOk++;
      else chainsBroken++;
      if (row.review === 'justified' || row.review === 'unjustified' || row.review === 'unreviewed')
        reviews[row.review]++;
      if (!analysis.profileKnown) unknownProfiles++;
      if (row.status === 'DENIED') {
        const principal = row.requester || '(unknown principal)';
        const denied = denials.get(principal) ?? { count: 0, profiles: new Set<string>(), latest: '' };
        denied.count++;
        denied.profiles.add(row.profile);
        if (row.start > denied.latest) denied.latest = row.start;
        denials.set(principal, denied);
      }
      // The grant's findings travel with its row, so they are reported in ledger order (step 4).
      const entry: RowEntry = { row, findings: analysis.findings };
      const range = rangeOf(ranges, row.sequence);
      const line = linesPerRange[range]!++;
      await rows.add(range, JSON.stringify(entry));
      if (pages && candidates.offer({ sequence: row.sequence, id: row.id }))
        await pages.add(range, JSON.stringify({ line, timeline: timelineOf(group.events) }));
      rowCount++;
    }
    await unlink(buckets.path(b)).catch(() => undefined); // disk back as we go
  }
  await rows.flush();
  await pages?.flush();
  return { rows, rowCount, pages, byStatus, chainsOk, chainsBroken, reviews, denials, orphanEvents, unknownProfiles };
}

interface Ordered {
  readonly ledger: { missingNumbers: number; ahead: number; duplicates: number; unnumbered: number; voided: number };
  /** Grants in the table (one row each). */
  readonly rows: number;
  /** Temporary file with the JSON of each grant, one per line, in ledger order. */
  readonly grantsJson: string;
  /** Temporary file with the first Markdown table rows. */
  readonly markdownRows: string;
  /** Temporary file with the {@link PageGrant} of each grant the page draws, in ledger order (empty without the page). */
  readonly pageGrants: string;
}

/** What step 4 needs for the page: the grants' page facts, and how many of the first rows the page leaves out. */
interface PageSelection {
  readonly facts: PartitionedFile;
  readonly skip: number;
}

/** Step 4: rows in ledger order; the ledger checked on the way; CSV written. */
async function orderRows(
  rows: PartitionedFile,
  ranges: RowRanges,
  ledgerLast: number | undefined,
  voided: ReadonlySet<number>,
  grants: number,
  tmp: string,
  csvPath: string,
  findings: FindingLog,
  page?: PageSelection,
): Promise<Ordered> {
  const csv = new TextSink(csvPath);
  const json = new TextSink(join(tmp, 'grants.jsonl'));
  const markdown = new TextSink(join(tmp, 'grants.md'));
  const pageGrants = new TextSink(join(tmp, 'page-grants.jsonl'));
  const ledger = { missingNumbers: 0, ahead: 0, duplicates: 0, unnumbered: 0, voided: voided.size };
  let written = 0;
  try {
    await csv.write(CSV_HEADER);
    if (ledgerLast === undefined && grants > 0) {
      await findings.add(
        finding('LEDGER_GAP', {
          message:
            'The ledger counter (LEDGER/SEQUENCE) is missing from the export, so deleting the newest grants would leave no trace. Restore the counter from an earlier export and find who deleted it.',
        }),
      );
    }
    // A range of missing numbers, less the voided ones (few), reported as runs.
    const gap = async (from: number, to: number) => {
      let start = from;
      for (const v of [...voided].filter((n) => n >= from && n <= to).sort((a, b) => a - b)) {
        if (v > start) await run(start, v - 1);
        start = v + 1;
      }
      if (start <= to) await run(start, to);
    };
    const run = async (from: number, to: number) => {
      ledger.missingNumbers += to - from + 1;
      const numbers =
        from === to ? `Ledger number ${from} has` : `Ledger numbers ${from}–${to} (${to - from + 1}) have`;
      await findings.add(
        finding('LEDGER_GAP', {
          sequence: from,
          count: to - from + 1,
          message: `${numbers} no grant record: grants were deleted, or an activation failed at its first write (its caller got an error). Check the alerts sent for ${from === to ? 'this number' : 'these numbers'} and CloudTrail for DeleteItem on the table.`,
        }),
      );
    };
    let expected = 1;
    let previous: number | undefined;
    for (let p = 0; p < ranges.count; p++) {
      const range: Array<RowEntry & { readonly line: number }> = [];
      for await (const line of rows.read(p)) range.push({ ...(JSON.parse(line) as RowEntry), line: range.length });
      range.sort(({ row: a }, { row: b }) => compareLedger(a, b));
      // The page facts of the rows the page draws (the newest), by their row's line in this partition.
      const timelines = new Map<number, GrantTimeline>();
      if (page && written + range.length > page.skip) {
        const wanted = new Set(range.filter((_, i) => written + i >= page.skip).map((entry) => entry.line));
        for await (const text of page.facts.read(p)) {
          const fact = JSON.parse(text) as { line: number; timeline: GrantTimeline };
          if (wanted.has(fact.line)) timelines.set(fact.line, fact.timeline);
        }
      }
      if (page) await unlink(page.facts.path(p)).catch(() => undefined);
      for (const { row, findings: own, line } of range) {
        const codes = own.map((f) => f.code);
        const s = row.sequence;
        if (s === null) ledger.unnumbered++;
        else if (s === previous) {
          ledger.duplicates++;
          codes.push('LEDGER_DUPLICATE');
          await findings.add(
            finding('LEDGER_DUPLICATE', {
              grantId: row.id,
              principal: row.requester,
              sequence: s,
              message: `Grant ${row.id} has ledger number ${s}, which another grant also holds: the counter hands out each number once, so one of the records was written outside break-glass. Compare both with an earlier export.`,
            }),
          );
        } else {
          const upTo = Math.min(s - 1, ledgerLast ?? Infinity);
          if (upTo >= expected) await gap(expected, upTo);
          if (ledgerLast !== undefined && s > ledgerLast) {
            ledger.ahead++;
            codes.push('LEDGER_AHEAD');
            await findings.add(
              finding('LEDGER_AHEAD', {
                grantId: row.id,
                principal: row.requester,
                sequence: s,
                message: `Grant ${row.id} has ledger number ${s}, beyond the counter's ${ledgerLast}: the counter was reset or the record was written outside break-glass. Find who changed the LEDGER item or the grant.`,
              }),
            );
          }
          expected = Math.max(expected, s + 1);
          previous = s;
        }
        for (const item of own) await findings.add(item);
        await csv.write(csvGrantRecord(row));
        await json.write(`${JSON.stringify(row)}\n`);
        const timeline = timelines.get(line);
        if (timeline) await pageGrants.write(`${JSON.stringify({ row, timeline, codes } satisfies PageGrant)}\n`);
        if (written++ < MARKDOWN_ROW_LIMIT) await markdown.write(mdGrantRow(row));
      }
      await unlink(rows.path(p)).catch(() => undefined);
    }
    if (ledgerLast !== undefined && expected <= ledgerLast) await gap(expected, ledgerLast);
    await Promise.all([csv.close(), json.close(), markdown.close(), pageGrants.close()]);
  } catch (error) {
    csv.destroy();
    json.destroy();
    markdown.destroy();
    pageGrants.destroy();
    throw error;
  }
  return {
    ledger,
    rows: written,
    grantsJson: join(tmp, 'grants.jsonl'),
    markdownRows: join(tmp, 'grants.md'),
    pageGrants: join(tmp, 'page-grants.jsonl'),
  };
}

interface Heading {
  readonly generatedAt: string;
  readonly asOf: string;
  readonly source: string;
  readonly summary: ReportSummary;
}

async function* fileLines(path: string): AsyncIterable<string> {
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield line;
  } finally {
    input.destroy();
  }
}

/** report.json: `{ generatedAt, asOf, source, summary, findings, grants }`, streamed. */
async function writeJson(path: string, heading: Heading, findings: FindingLog, grantsJson: string): Promise<void> {
  const out = new TextSink(path);
  try {
    const head = JSON.stringify(heading, null, 2);
    await out.write(`${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "findings": [`);
    let first = true;
    for (const code of FINDING_CODE_LIST) {
      for await (const item of findings.of(code)) {
        await out.write(`${first ? '\n' : ',\n'}    ${JSON.stringify(item)}`);
        first = false;
      }
    }
    await out.write(`${first ? '' : '\n  '}],\n  "grants": [`);
    first = true;
    for await (const line of fileLines(grantsJson)) {
      await out.write(`${first ? '\n' : ',\n'}    ${line}`);
      first = false;
    }
    await out.write(`${first ? '' : '\n  '}]\n}\n`);
    await out.close();
  } catch (error) {
    out.destroy();
    throw error;
  }
}

/** report.md: the figures, the findings by code, and the first rows of the per-grant table. */
async function writeMarkdown(
  path: string,
  heading: Heading,
  findings: FindingLog,
  markdownRows: string,
  grants: number,
): Promise<void> {
  const out = new TextSink(path);
  const s = heading.summary;
  const count = (n: number) => n.toLocaleString('en-US');
  try {
    const high = s.findings.bySeverity.HIGH;
    await out.write(
      [
        '# Break-glass compliance report',
        '',
        `- Source: ${mdText(heading.source, 400)}`,
        `- Export: ${mdText(s.exportArn ?? '(no manifest)', 300)}${s.exportTime ? `, exported ${mdText(s.exportTime)}` : ''}`,
        `- As of: ${heading.asOf}; generated ${heading.generatedAt}`,
        `- Policy: revocation late beyond ${s.policy.lateSeconds} s; review due ${s.policy.reviewDays} days after a grant ends; profiles ${mdText(s.policy.profiles ?? '(none)', 300)}`,
        '',
        high > 0 ? `**${count(high)} HIGH finding(s)**: see below.` : '**No HIGH findings.**',
        '',
        ...(s.warnings.length ? ['## Warnings', '', ...s.warnings.map((w) => `- ${mdText(w, 1000)}`), ''] : []),
        '## Summary',
        '',
        '| figure | value |',
        '|---|---:|',
        ...summaryFigures(s).map(([label, value]) => `| ${mdText(label, 80)} | ${mdText(value, 80)} |`),
        '',
        '## Findings',
        '',
        s.findings.total === 0 ? 'None.\n' : '',
      ].join('\n'),
    );
    for (const code of FINDING_CODE_LIST) {
      const n = s.findings.byCode[code];
      if (!n) continue;
      await out.write(`### ${code} (${FINDING_CODES[code].severity}): ${FINDING_CODES[code].title}, ${count(n)}\n\n`);
      let listed = 0;
      for await (const item of findings.of(code)) {
        if (listed++ >= MARKDOWN_FINDING_LIMIT) break;
        await out.write(`- ${mdText(item.message, 2000)}\n`);
      }
      if (n > MARKDOWN_FINDING_LIMIT)
        await out.write(`- … and ${count(n - MARKDOWN_FINDING_LIMIT)} more: all are in report.json.\n`);
      await out.write('\n');
    }
    await out.write(`## Grants (${count(grants)})\n\n`);
    if (grants > MARKDOWN_ROW_LIMIT)
      await out.write(
        `Showing the first ${count(MARKDOWN_ROW_LIMIT)} of ${count(grants)} grants, in ledger order; report.csv has them all.\n\n`,
      );
    await out.write(MD_TABLE_HEADER);
    for await (const line of fileLines(markdownRows)) await out.write(`${line}\n`);
    await out.close();
  } catch (error) {
    out.destroy();
    throw error;
  }
}
