import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvCell, csvRecord, htmlText, mdText } from '../../../audit/writers.js';
import { writeExportFixture } from '../../support/export-fixture.js';
import { audit, parseCsv, tempDir } from './support.js';

/** Reasons as hostile as a requester (or someone editing the table) can make them. */
const HOSTILE = [
  'pipe | in | the | middle',
  'first line\nsecond line\r\nthird line\rfourth',
  "=cmd|' /C calc'!A0",
  '+SUM(1+1)',
  '-2+3',
  '@HYPERLINK("http://evil.example","click")',
  '\tleading tab',
  'quote " and, comma',
  '支払いが失敗 🚨 ñandú — naïve café',
  'right-to-left \u202Eexe.txt\u202C override',
  '<img src=x onerror=alert(1)> [link](http://evil.example) **bold** `code` \\ backslash',
  '',
];

describe('csvCell', () => {
  it('quotes a cell with a quote, comma or line break and doubles its quotes', () => {
    expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('plain text')).toBe('plain text');
  });

  it('prefixes a quote to text a spreadsheet would run as a formula', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('=A1,"x"')).toBe('"\'=A1,""x"""');
  });

  it('writes numbers as numbers, a negative lateness included, and empty values as empty cells', () => {
    expect(csvRecord([-310, 0, 12.5, null, undefined, ''])).toBe('-310,0,12.5,,,\r\n');
  });
});

describe('mdText', () => {
  it('escapes what would end a table cell or start markup, and keeps text readable', () => {
    expect(mdText('a | b')).toBe('a \\| b');
    expect(mdText('one\ntwo\r\nthree')).toBe('one<br>two<br>three');
    expect(mdText('<script>')).toBe('&lt;script&gt;');
    expect(mdText('[x](y) *z* `c` \\')).toBe('\\[x\\](y) \\*z\\* \\`c\\` \\\\');
    expect(mdText('支払い 🚨')).toBe('支払い 🚨');
  });

  it('shows invisible and bidirectional control characters instead of obeying them', () => {
    expect(mdText('a\u202Eb\u0007c')).toBe('a\\u{202e}b\\u{7}c');
  });

  it('cuts long text on a character boundary', () => {
    expect(mdText('🚨'.repeat(10), 5)).toBe('🚨🚨🚨🚨…');
  });
});

describe('audit report: hostile reasons', () => {
  async function hostileReport() {
    const f = await writeExportFixture({
      dir: tempDir(),
      grants: 60,
      files: 2,
      plan: (i, p) => ({
        ...p,
        reason: HOSTILE[i % HOSTILE.length]!,
        ...(i === 3 ? { ticket: '=HYPERLINK("x")' } : {}),
      }),
    });
    const result = await audit(['report', f.prefixDir, '--as-of', '2026-11-05T00:00:00Z']);
    return { f, ...result };
  }

  it('keeps the CSV to one record per grant, every reason intact, formulas defused', async () => {
    const { f, out } = await hostileReport();
    const records = parseCsv(readFileSync(join(out, 'report.csv'), 'utf8'));
    expect(records).toHaveLength(61);
    expect(records.every((r) => r.length === 24)).toBe(true); // 18 (account and alias among them), and 6 of action logging
    const header = records[0]!;
    const reasonAt = header.indexOf('reason');
    const byId = new Map(records.slice(1).map((r) => [r[0], r]));
    for (const g of f.grants) {
      const reason = byId.get(g.plan.id)![reasonAt]!;
      expect(reason).toBe(/^[=+\-@\t\r]/.test(g.plan.reason) ? `'${g.plan.reason}` : g.plan.reason);
    }
    expect(byId.get(f.grants[3]!.plan.id)![header.indexOf('ticket')]).toBe('\'=HYPERLINK("x")');
    // A negative lateness stays a number.
    const revoked = f.grants.find((g) => g.status === 'REVOKED')!;
    expect(byId.get(revoked.plan.id)![header.indexOf('late_seconds')]).toBe(String(revoked.lateSeconds));
  });

  it('keeps the Markdown table to one line per grant with its 15 columns', async () => {
    const { out } = await hostileReport();
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const table = md.slice(md.indexOf('| # | grant |'));
    const lines = table.trimEnd().split('\n');
    expect(lines).toHaveLength(62); // header, rule, 60 grants
    for (const line of lines) {
      // Cells are separated by pipes that are not escaped: 16 of them for 15 columns.
      expect(line.match(/(?<!\\)\|/g)).toHaveLength(16);
    }
    expect(table).not.toContain('<img');
    expect(table).not.toContain('\u202E');
    expect(table).toContain('first line<br>second line<br>third line<br>fourth');
    expect(table).toContain('支払いが失敗 🚨 ñandú — naïve café');
  });

  it('round-trips every reason exactly through the JSON', async () => {
    const { f, json } = await hostileReport();
    const reasons = new Map(json!.grants.map((g) => [g.id, g.reason]));
    for (const g of f.grants) expect(reasons.get(g.plan.id)).toBe(g.plan.reason);
  });

  it('cuts the Markdown table beyond 1,000 rows and points to the CSV', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 1_005, files: 2 });
    const { out, json } = await audit(['report', f.prefixDir, '--as-of', '2026-11-05T00:00:00Z']);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('Showing the first 1,000 of 1,005 grants, in ledger order; report.csv has them all.');
    const rows = md.slice(md.indexOf('| # | grant |')).trimEnd().split('\n').slice(2);
    expect(rows).toHaveLength(1_000);
    expect(rows.at(-1)).toMatch(/^\| 1000 \| /);
    expect(json!.grants).toHaveLength(1_005);
    expect(parseCsv(readFileSync(join(out, 'report.csv'), 'utf8'))).toHaveLength(1_006);
  });
});

describe('htmlText', () => {
  const decode = (html: string) =>
    html
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');

  it.each(HOSTILE)('escapes %j so it is text in an element or a quoted attribute, and nothing is lost', (reason) => {
    const html = htmlText(reason);
    expect(html).not.toMatch(/[<>"']/);
    expect(html.replace(/&(lt|gt|quot|#39|amp);/g, '')).not.toContain('&'); // every & starts one of the five references
    expect(decode(html)).toBe(
      reason.replace(/[\u202A-\u202E\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`),
    );
  });

  it('turns control and bidirectional-override characters into visible escapes, keeps line breaks and tabs', () => {
    expect(htmlText('a\u202Eb\u0000c\u2066d')).toBe('a\\u{202e}b\\u{0}c\\u{2066}d');
    expect(htmlText('one\ntwo\tthree')).toBe('one\ntwo\tthree');
  });

  it('cuts long text to the characters asked for, whole code points, with an ellipsis', () => {
    expect(htmlText('🚨'.repeat(10), 4)).toBe('🚨🚨🚨…');
    expect(htmlText('x'.repeat(3_000))).toHaveLength(2_000);
    expect(htmlText(null)).toBe('');
    expect(htmlText(42)).toBe('42');
  });
});
