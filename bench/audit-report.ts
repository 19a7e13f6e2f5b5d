/**
 * `tsx bench/audit-report.ts`: the audit report over a large synthetic export, in a child
 * process, so its peak memory is its own. Prints a Markdown table; nothing is asserted.
 *
 * 1. generate — a DynamoDB export of `BENCH_AUDIT_EVENTS` events (default 1,000,000: 100,000
 *    grants × 10 events), in the documented layout, into a temp dir;
 * 2. report — `node --import tsx audit/main.ts report … --stats`, timed from outside;
 * 3. print — events, grants, generation seconds, report seconds, peak RSS of the report.
 *
 * `BENCH_AUDIT_KEEP=1` keeps the temp dir (the export and the report) for a look.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeExportFixture } from '../test/support/export-fixture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS_PER_GRANT = 10;

/** What one run measured. */
export interface AuditBenchResult {
  readonly events: number;
  readonly grants: number;
  readonly items: number;
  readonly exportMiB: number;
  readonly generationSeconds: number;
  /** Wall time of the report process, start-up included. */
  readonly reportSeconds: number;
  /** The report's own measure of its work (without process start-up). */
  readonly reportWorkSeconds: number;
  readonly peakRssMiB: number;
  readonly exitCode: number;
}

/** Generates an export of about `events` events and times the report over it. */
export async function runAuditBench(
  events = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000),
): Promise<AuditBenchResult> {
  if (!Number.isInteger(events) || events < EVENTS_PER_GRANT)
    throw new Error(`BENCH_AUDIT_EVENTS must be an integer of at least ${EVENTS_PER_GRANT}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
  try {
    // 1. generate
    const grants = Math.ceil(events / EVENTS_PER_GRANT);
    let started = performance.now();
    const fixture = await writeExportFixture({
      dir: join(dir, 'bucket'),
      grants,
      eventsPerGrant: EVENTS_PER_GRANT,
      collect: false,
    });
    const generationSeconds = (performance.now() - started) / 1000;
    const exportBytes = fixture.dataFiles.reduce((n, file) => n + statSync(file).size, 0);

    // 2. report
    started = performance.now();
    const args = [
      '--import',
      'tsx',
      'audit/main.ts',
      'report',
      fixture.prefixDir,
      '--out',
      join(dir, 'report'),
      '--as-of',
      fixture.exportTime,
      '--stats',
    ];
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 2) : 0, stderr }),
      );
    });
    const reportSeconds = (performance.now() - started) / 1000;
    // Exit 1 is expected: the generated grants include late revocations.
    if (code !== 0 && code !== 1) throw new Error(`the report failed (exit ${code}): ${stderr.trim()}`);
    const stats = /audit stats: items=(\d+) grants=(\d+) events=(\d+) seconds=([\d.]+) peakRssMiB=([\d.]+)/.exec(
      stderr,
    );
    if (!stats) throw new Error(`the report printed no stats: ${stderr.trim()}`);

    // 3. print (the caller formats)
    return {
      events: Number(stats[3]),
      grants: Number(stats[2]),
      items: Number(stats[1]),
      exportMiB: exportBytes / 1024 / 1024,
      generationSeconds,
      reportSeconds,
      reportWorkSeconds: Number(stats[4]),
      peakRssMiB: Number(stats[5]),
      exitCode: code,
    };
  } finally {
    if (process.env.BENCH_AUDIT_KEEP === '1') console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as a Markdown table. */
export function formatAuditBench(r: AuditBenchResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    '| audit report (bounded memory) | value |',
    '|---|---:|',
    `| events | ${n(r.events)} |`,
    `| grants | ${n(r.grants)} |`,
    `| items in the export (gzipped size) | ${n(r.items)} (${r.exportMiB.toFixed(1)} MiB) |`,
    `| generation seconds | ${r.generationSeconds.toFixed(1)} |`,
    `| report seconds (wall; of which the report's own work) | ${r.reportSeconds.toFixed(1)} (${r.reportWorkSeconds.toFixed(1)}) |`,
    `| peak RSS of the report process, MiB | ${r.peakRssMiB.toFixed(1)} |`,
  ].join('\n');
}

if (process.argv[1] !== undefined && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runAuditBench()
    .then((result) => console.log(formatAuditBench(result)))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
