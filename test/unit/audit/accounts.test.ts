/** Many accounts in the audit report: every format names each grant's account, and its alias when the grant recorded one. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeExportFixture } from '../../support/export-fixture.js';
import { audit, parseCsv, tempDir } from './support.js';

const AS_OF = '2026-11-05T00:00:00.000Z';
const SPOKE = '210987654321';
const OTHER = '222233334444';
const HOSTILE_ALIAS = '<b>prod</b>"\'';

describe('audit report across accounts', () => {
  it('names the account and alias of each grant in report.json, report.csv, report.md and report.html', async () => {
    // Prepare: grant 0 in a spoke with an alias, grant 1 in another without one, grant 2 with a hostile alias, the rest in no account
    const accountOf = (i: number) =>
      i === 0
        ? { account: SPOKE, accountAlias: 'payments-prod' }
        : i === 1
          ? { account: OTHER }
          : i === 2
            ? { account: SPOKE, accountAlias: HOSTILE_ALIAS }
            : {};
    const f = await writeExportFixture({
      dir: tempDir(),
      grants: 6,
      plan: (i, plan) => ({ ...plan, ...accountOf(i), outcome: i < 3 ? 'EXPIRED' : plan.outcome }),
    });
    const ids = f.grants.map((g) => g.plan.id);

    // Act
    const result = await audit(['report', f.prefixDir, '--as-of', AS_OF, '--html']);

    // Assess: JSON
    expect(result.code).toBe(0);
    const rows = new Map(result.json!.grants.map((r) => [r.id, r]));
    expect(rows.get(ids[0]!)).toMatchObject({ account: SPOKE, accountAlias: 'payments-prod' });
    expect(rows.get(ids[1]!)).toMatchObject({ account: OTHER, accountAlias: '' });
    expect(rows.get(ids[3]!)).toMatchObject({ account: '', accountAlias: '' });
    // CSV: account and alias columns
    const csv = parseCsv(readFileSync(join(result.out, 'report.csv'), 'utf8'));
    const [header, ...records] = csv;
    const col = (name: string) => header!.indexOf(name);
    expect(col('account')).toBeGreaterThan(-1);
    const byId = new Map(records.map((r) => [r[col('grant_id')], r]));
    expect(byId.get(ids[0]!)![col('account')]).toBe(SPOKE);
    expect(byId.get(ids[0]!)![col('account_alias')]).toBe('payments-prod');
    expect(byId.get(ids[1]!)![col('account_alias')]).toBe('');
    // Markdown: an account column, the id with its alias
    const md = readFileSync(join(result.out, 'report.md'), 'utf8');
    expect(md).toContain('| profile | account | acknowledged risks |');
    const mdRow = (id: string) => md.split('\n').find((l) => l.includes(`| ${id} |`))!;
    expect(mdRow(ids[0]!)).toContain(`| ${SPOKE} (payments-prod) |`);
    expect(mdRow(ids[1]!)).toContain(`| ${OTHER} |`);
    // HTML: each grant's detail has an account fact (alias when known), its heading and bar title say where
    const html = readFileSync(join(result.out, 'report.html'), 'utf8');
    const article = (id: string) => {
      const start = html.indexOf(`data-grant="${id}">`);
      return html.slice(start, html.indexOf('</article>', start));
    };
    expect(article(ids[0]!)).toContain(`<dt>account</dt><dd>${SPOKE} (payments-prod)</dd>`);
    expect(article(ids[0]!)).toMatch(new RegExp(`</span> \\S+ in ${SPOKE} \\(payments-prod\\): `));
    expect(article(ids[1]!)).toContain(`<dt>account</dt><dd>${OTHER}</dd>`);
    expect(article(ids[3]!)).toContain('<dt>account</dt><dd>—</dd>');
    expect(html).toMatch(new RegExp(`<title>#\\d+ [^<]* in ${SPOKE} \\(payments-prod\\): EXPIRED;`));
    // A hostile alias is text, never markup
    expect(article(ids[2]!)).toContain(`<dd>${SPOKE} (&lt;b&gt;prod&lt;/b&gt;&quot;&#39;)</dd>`);
    expect(html).not.toContain('<b>prod</b>');
  });
});
