/** Shared steps of the audit report tests: a temp dir, running the command, reading its output. */
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach } from 'vitest';
import type { Finding } from '../../../audit/findings.js';
import type { GrantRow } from '../../../audit/grant-analysis.js';
import { type RunOptions, run } from '../../../audit/main.js';
import type { ReportSummary } from '../../../audit/report.js';

const dirs: string[] = [];

/** A fresh temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface ReportJson {
  readonly generatedAt: string;
  readonly asOf: string;
  readonly source: string;
  readonly summary: ReportSummary;
  readonly findings: Finding[];
  readonly grants: GrantRow[];
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
  /** report.json, when the command wrote one. */
  readonly json: ReportJson | undefined;
}

/** Runs `audit report <source> …` in-process, with its output captured. */
export async function audit(
  args: readonly string[],
  options: RunOptions & { out?: string } = {},
): Promise<CommandResult> {
  const out = options.out ?? join(tempDir(), 'report');
  let stdout = '';
  let stderr = '';
  const withOut = args.includes('--out') || args.includes('--help') ? args : [...args, '--out', out];
  const code = await run(withOut, { out: (t) => (stdout += t), err: (t) => (stderr += t) }, options);
  let json: ReportJson | undefined;
  try {
    json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportJson;
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, out, json };
}

/** The findings of one code. */
export const ofCode = (json: ReportJson, code: Finding['code']) => json.findings.filter((f) => f.code === code);

/** Which data files hold items of each grant (to check that a test's export really spreads them). */
export async function filesPerGrant(dataFiles: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const file of dataFiles) {
    for await (const line of createInterface({
      input: createReadStream(file).pipe(createGunzip()),
      crlfDelay: Infinity,
    })) {
      if (!line) continue;
      const item = unmarshall((JSON.parse(line) as { Item: never }).Item) as { pk: string };
      if (!item.pk.startsWith('GRANT#')) continue;
      out.set(item.pk, (out.get(item.pk) ?? new Set()).add(file));
    }
  }
  return out;
}

/** Files left in a directory (to check that temporary files are gone). */
export const leftIn = (dir: string): string[] => readdirSync(dir);

/** A minimal RFC 4180 parser: records of fields, quotes doubled inside quoted fields. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else if (c === '"' || c === '\r' || c === '\n')
      throw new Error(`bare ${JSON.stringify(c)} at ${i}: not RFC 4180`);
    else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length) throw new Error('last record not terminated by CRLF');
  return records;
}
