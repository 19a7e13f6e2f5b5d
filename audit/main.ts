/**
 * `npm run audit -- report <export>`: the compliance report over a DynamoDB table export.
 *
 * 1. parse — the command line, the policy figures and the profiles file;
 * 2. report — `runReport` over the local directory or S3 location;
 * 3. exit — 0 without HIGH findings, 1 with, 2 for bad usage or an unreadable export (one line
 *    on stderr, never a stack trace).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ProfileSet, parseProfiles } from '../functions/domain/profile.js';
import { iamRiskCheck } from '../profiles/iam-catalog.js';
import { describeCause, SourceError, UsageError } from './errors.js';
import { openLocation } from './export-source.js';
import { type ActivitySource, HTML_GRANT_LIMIT } from './html-report.js';
import type { ObjectStore } from './object-store.js';
import { DEFAULT_DRILL_DAYS, runReport } from './report.js';

/** Exit status: no HIGH finding. */
export const EXIT_OK = 0;
/** Exit status: at least one HIGH finding. */
export const EXIT_HIGH_FINDINGS = 1;
/** Exit status: bad usage, or an export that cannot be read. */
export const EXIT_USAGE = 2;

/** What `--help` prints. */
export const USAGE = `Usage: npm run audit -- report <export> [options]

A compliance report over a DynamoDB export of the break-glass table: every grant (who, which
profile, why, when, how late its access was removed, its review, its audit chain) and the
findings against policy. Reads the export once, in bounded memory.

  <export>              a local directory or s3://bucket/prefix: the export's prefix, its
                        AWSDynamoDB/<exportId>/ folder, or its manifest-summary.json. Only
                        finished full exports are read (the newest, by exportTime)

Options:
  --out <dir>           where to write report.md, report.csv and report.json (default ./audit-report)
  --html                also write report.html: one self-contained page (no network), a timeline
                        per profile, the findings, each grant's detail; it draws the newest
                        ${HTML_GRANT_LIMIT.toLocaleString('en-US')} grants (report.csv and report.json have them all)
  --late-seconds <n>    access removed more than n seconds after expiry is a finding (default 300)
  --review-days <n>     a grant unreviewed n days after it ended is a finding (default 3)
  --drill-days <n>      the last drill older than n days (or none, with a drill profile) is a finding
                        (default 32: the monthly drill schedule and a day)
  --as-of <time>        ISO-8601 time the review deadlines are measured at (default now)
  --profiles <file>     profiles, for the ticket rule and acknowledged risks (default
                        config/profiles.json; checked as synth checks it)
  --stats               print items read, grants, events, seconds and peak RSS on stderr
  -h, --help            this text

Exit status: 0 no HIGH finding; 1 HIGH findings (broken chain, ledger gap, late revocation,
manifest mismatch, ...); 2 bad usage, an export that cannot be read, or no finished full
export (an incremental export, or one still running or failed).
S3 is read with the usual AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
`;

/** Where the command writes; tests pass their own. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** What tests (and embedders) can replace in {@link run}. */
export interface RunOptions {
  /** Store for `s3://` locations (tests pass a mocked one). */
  readonly s3Store?: (bucket: string) => ObjectStore;
  /** Parent of the temporary directory. */
  readonly tmpDir?: string;
  readonly clock?: () => Date;
  /** Items per temporary file (tests use small ones to exercise many). */
  readonly itemsPerBucket?: number;
  /** Grants report.html draws (tests use few to exercise the cap). */
  readonly htmlGrantLimit?: number;
  /** Activity ticks for report.html (the action-log hook). */
  readonly activity?: ActivitySource;
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(parsed))
    throw new UsageError(`--${name} must be a number of at least 0, not "${value}"`);
  return parsed;
}

function loadProfiles(path: string | undefined): { profiles?: ProfileSet; source?: string } {
  const file = path ?? 'config/profiles.json';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return {}; // reported as a warning
    throw new UsageError(`cannot read the profiles file ${file}: ${describeCause(error)}`);
  }
  try {
    // The same check as synth: a profile with an unacknowledged escalation risk is not a valid file.
    return { profiles: parseProfiles(JSON.parse(text), file, iamRiskCheck()), source: file };
  } catch (error) {
    const problems =
      error instanceof Error
        ? error.message.replace(/:?\s*\n\s*-?\s*/g, (m) => (m.startsWith(':') ? ': ' : '; '))
        : String(error);
    throw new UsageError(`${file} is not a valid profiles file: ${problems}`);
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** Runs the command; returns the exit status instead of exiting. */
export async function run(argv: readonly string[], io: Io = processIo, options: RunOptions = {}): Promise<number> {
  try {
    // 1. parse
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          out: { type: 'string' },
          'late-seconds': { type: 'string' },
          'review-days': { type: 'string' },
          'drill-days': { type: 'string' },
          'as-of': { type: 'string' },
          profiles: { type: 'string' },
          stats: { type: 'boolean' },
          html: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new UsageError(describeCause(error));
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.out(USAGE);
      return EXIT_OK;
    }
    const [command, location, ...rest] = positionals;
    if (command !== 'report')
      throw new UsageError(
        command ? `unknown command "${command}"; the command is "report"` : 'missing command: report <export>',
      );
    if (!location) throw new UsageError('missing the export to report on: a local directory or s3://bucket/prefix');
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const asOf = values['as-of'] === undefined ? (options.clock ?? (() => new Date()))() : new Date(values['as-of']);
    if (
      Number.isNaN(asOf.getTime()) ||
      (values['as-of'] !== undefined && !/^\d{4}-\d{2}-\d{2}/.test(values['as-of']))
    ) {
      throw new UsageError(`--as-of must be an ISO-8601 time such as 2026-11-24T10:00:00Z, not "${values['as-of']}"`);
    }
    const lateSeconds = number('late-seconds', values['late-seconds'], 300);
    const reviewDays = number('review-days', values['review-days'], 3);
    const drillDays = number('drill-days', values['drill-days'], DEFAULT_DRILL_DAYS);
    const { profiles, source: profilesSource } = loadProfiles(values.profiles);

    // 2. report
    const { store, base } = await openLocation(location, options.s3Store);
    const result = await runReport({
      store,
      base,
      outDir: values.out ?? 'audit-report',
      lateSeconds,
      reviewDays,
      drillDays,
      asOf,
      ...(profiles ? { profiles, profilesSource: profilesSource! } : {}),
      ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.itemsPerBucket ? { itemsPerBucket: options.itemsPerBucket } : {}),
      ...(values.html ? { html: true } : {}),
      ...(options.htmlGrantLimit !== undefined ? { htmlGrantLimit: options.htmlGrantLimit } : {}),
      ...(options.activity ? { activity: options.activity } : {}),
    });

    // 3. exit
    const s = result.summary;
    for (const warning of s.warnings) io.err(`warning: ${warning}\n`);
    const f = s.findings.bySeverity;
    io.out(
      `Report on ${s.exportArn ?? location}: ${count(s.grants)} grants, ${count(s.events)} events; ` +
        `${count(s.findings.total)} findings (${count(f.HIGH)} HIGH, ${count(f.MEDIUM)} MEDIUM, ${count(f.LOW)} LOW).\n` +
        `Wrote ${result.files.markdown}, ${result.files.csv}, ${result.files.json}${result.files.html ? `, ${result.files.html}` : ''}\n`,
    );
    if (values.stats) {
      const peak = process.resourceUsage().maxRSS / 1024; // KiB → MiB
      io.err(
        `audit stats: items=${result.stats.itemsRead} grants=${result.stats.grants} events=${result.stats.events} seconds=${result.stats.seconds.toFixed(2)} peakRssMiB=${peak.toFixed(1)} buckets=${result.stats.buckets}\n`,
      );
    }
    return f.HIGH > 0 ? EXIT_HIGH_FINDINGS : EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) io.err(`audit: ${error.message}\nTry: npm run audit -- --help\n`);
    else if (error instanceof SourceError) io.err(`audit: ${error.message}\n`);
    else {
      io.err(`audit: failed: ${describeCause(error)}\n`);
      if (process.env.AUDIT_DEBUG === '1' && error instanceof Error) io.err(`${error.stack}\n`);
    }
    return EXIT_USAGE;
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Own temporary parent, so an interrupted run can remove what it spilled to disk.
  const tmp = mkdtempSync(resolve(tmpdir(), 'breakglass-audit-run-'));
  const cleanUp = () => rmSync(tmp, { recursive: true, force: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  run(process.argv.slice(2), processIo, { tmpDir: tmp })
    .then((code) => {
      cleanUp();
      process.exitCode = code;
    })
    .catch(() => {
      cleanUp();
      process.exitCode = EXIT_USAGE;
    });
}
