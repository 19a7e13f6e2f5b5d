/**
 * The report's formats, and the escaping that keeps user text (reasons, tickets, even ARNs in a
 * tampered export) from breaking them:
 *
 * - CSV (RFC 4180): every text cell is quoted when it holds a quote, comma or line break, and a
 *   text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets
 *   a leading `'`. Numbers are written as numbers (a negative lateness is not a formula).
 * - Markdown: `|`, backslash and the characters that start emphasis, code, links or HTML are
 *   escaped, line breaks become `<br>`, control and bidirectional-override characters become
 *   visible `\u{…}` escapes, and long text is cut.
 * - JSON: written by `JSON.stringify`, streamed element by element.
 * - HTML (`report.html`): `&`, `<`, `>`, `"` and `'` become character references everywhere text
 *   or an attribute value goes (so `</script>` or `<img onerror=…>` is text), control and
 *   bidirectional-override characters become visible `\u{…}` escapes, and long text is cut.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { GrantRow } from './grant-analysis.js';
import type { ReportSummary } from './report.js';

/** Columns of `report.csv` (and of the JSON grants, by their field names). */
export const CSV_COLUMNS: ReadonlyArray<readonly [string, (row: GrantRow) => string | number | null]> = [
  ['grant_id', (r) => r.id],
  ['ledger_sequence', (r) => r.sequence],
  ['requester', (r) => r.requester],
  ['profile', (r) => r.profile],
  ['account', (r) => r.account],
  ['account_alias', (r) => r.accountAlias],
  ['acknowledged_risks', (r) => r.risks],
  ['status', (r) => r.status],
  ['reason', (r) => r.reason],
  ['ticket', (r) => r.ticket],
  ['start', (r) => r.start],
  ['planned_end', (r) => r.plannedEnd],
  ['actual_end', (r) => r.actualEnd],
  ['late_seconds', (r) => r.lateSeconds],
  ['review', (r) => r.review],
  ['reviewed_by', (r) => r.reviewedBy],
  ['chain', (r) => r.chain],
  ['events', (r) => r.events],
  ['activity_calls', (r) => r.activityCalls],
  ['activity_writes', (r) => r.activityWrites],
  ['activity_denied', (r) => r.activityDenied],
  ['activity_after_end_allowed', (r) => r.activityAfterEnd],
  ['first_call', (r) => r.firstCall],
  ['last_call', (r) => r.lastCall],
];

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: numbers as they are, text guarded against formulas and quoted when needed. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** One CSV record, CRLF-terminated as RFC 4180 has it. */
export function csvRecord(cells: ReadonlyArray<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The first record of report.csv. */
export const CSV_HEADER = csvRecord(CSV_COLUMNS.map(([name]) => name));

/** A grant's CSV record. */
export function csvGrantRecord(row: GrantRow): string {
  return csvRecord(CSV_COLUMNS.map(([, get]) => get(row)));
}

// Control characters (but tab), and the bidirectional overrides/isolates that can make text read
// differently from what it is ("Trojan Source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point (they are stripped).
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** User text made safe for one Markdown table cell or list item, cut to `max` characters. */
export function mdText(value: string | number | null | undefined, max = 160): string {
  if (value === null || value === undefined || value === '') return '';
  let text = String(value);
  if ([...text].length > max) text = `${[...text].slice(0, max - 1).join('')}…`;
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~#!]/g, (c) => `\\${c}`)
    .replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/\r\n|\r|\n|\u2028|\u2029/g, '<br>')
    .replace(/\t/g, ' ');
}

/** User text made safe for HTML text or a quoted attribute value, cut to `max` characters. */
export function htmlText(value: string | number | null | undefined, max = 2_000): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (text.length > max && [...text].length > max) text = `${[...text].slice(0, max - 1).join('')}…`;
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** The report's figures as (label, value) pairs, plain text: the summary table of report.md and report.html. */
export function summaryFigures(s: ReportSummary): Array<[string, string]> {
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    ['data files read', count(s.dataFiles)],
    ['items read', `${count(s.itemsRead)}${s.itemsExpected !== null ? ` (manifest: ${count(s.itemsExpected)})` : ''}`],
    ['grants', count(s.grants)],
    ...Object.entries(s.byStatus).map(([status, n]): [string, string] => [`grants ${status}`, count(n)]),
    ['events', count(s.events)],
    ['chains ok / broken', `${count(s.chains.ok)} / ${count(s.chains.broken)}`],
    [
      'reviews justified / unjustified / unreviewed',
      `${count(s.reviews.justified)} / ${count(s.reviews.unjustified)} / ${count(s.reviews.unreviewed)}`,
    ],
    ['reviews overdue', count(s.reviews.overdue)],
    ['late revocations', count(s.lateRevocations)],
    ['ledger counter', s.ledger.counter === null ? 'missing' : String(s.ledger.counter)],
    ['ledger numbers with no grant', count(s.ledger.missingNumbers)],
    [
      'grants beyond the counter / sharing a number / unnumbered',
      `${count(s.ledger.ahead)} / ${count(s.ledger.duplicates)} / ${count(s.ledger.unnumbered)}`,
    ],
    ['denied attempts (principals)', `${count(s.deniedAttempts)} (${count(s.deniedPrincipals)})`],
    ['events without a grant record', count(s.orphanEvents)],
    [
      'findings HIGH / MEDIUM / LOW',
      `${count(s.findings.bySeverity.HIGH)} / ${count(s.findings.bySeverity.MEDIUM)} / ${count(s.findings.bySeverity.LOW)}`,
    ],
  ];
}

/** The header and alignment rows of the per-grant table in report.md. */
export const MD_TABLE_HEADER =
  '| # | grant | requester | profile | account | acknowledged risks | status | reason | ticket | start | planned end | actual end | late (s) | review | chain |\n' +
  '|---:|---|---|---|---|---|---|---|---|---|---|---|---:|---|---|\n';

/** `210987654321 (payments-prod)`, the id alone without an alias, empty without an account (the API's `accountLabel`). */
export function accountText(row: Pick<GrantRow, 'account' | 'accountAlias'>): string {
  return row.account ? (row.accountAlias ? `${row.account} (${row.accountAlias})` : row.account) : '';
}

/** A grant's row in the Markdown table. */
export function mdGrantRow(row: GrantRow): string {
  const cells = [
    row.sequence ?? '',
    mdText(row.id, 64),
    mdText(row.requester, 120),
    mdText(row.profile, 64),
    mdText(accountText(row), 100),
    mdText(row.risks.replace(/,/g, ', '), 200),
    mdText(row.status, 16),
    mdText(row.reason, 120),
    mdText(row.ticket, 40),
    mdText(row.start, 30),
    mdText(row.plannedEnd, 30),
    mdText(row.actualEnd, 30),
    row.lateSeconds ?? '',
    mdText(row.review, 16),
    mdText(row.chain, 120),
  ];
  return `| ${cells.join(' | ')} |\n`;
}

/**
 * A file written in pieces, waiting whenever the stream asks to (so a large report does not
 * pile up in memory). Close it to flush.
 */
export class TextSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) throw this.failure;
  }

  /** Closes without caring whether the last write landed (on a failure path). */
  destroy(): void {
    this.stream.destroy();
  }
}
