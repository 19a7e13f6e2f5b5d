import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ActivityWindow,
  compareLedger,
  HTML_EVENTS_HEAD,
  HTML_EVENTS_TAIL,
  HTML_FINDING_LIMIT,
  HTML_GRANT_LIMIT,
  type LedgerKey,
  NewestCandidates,
  timelineOf,
} from '../../../audit/html-report.js';
import { MARKDOWN_FINDING_LIMIT } from '../../../audit/report.js';
import { htmlText } from '../../../audit/writers.js';
import {
  HOSTILE_REASON,
  PAGE_SAMPLE,
  PAGE_SAMPLE_AS_OF,
  seededRandom,
  writeExportFixture,
} from '../../support/export-fixture.js';
import { audit, type CommandResult, leftIn, tempDir } from './support.js';

const clock = () => new Date('2026-11-05T00:00:00Z');
const page = (result: CommandResult) => readFileSync(join(result.out, 'report.html'), 'utf8');
/** Every match of a regular expression's first group. */
const all = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]!);
/** The detail articles of a page, by their grant id. */
const details = (html: string) => all(html, /<article class="grant[^"]*" id="grant-\d+" data-grant="([^"]*)">/g);

describe('audit report page (--html)', () => {
  it('writes report.html beside the other files only when asked, and names it on stdout', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 12 });
    const without = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF]);
    expect(existsSync(join(without.out, 'report.html'))).toBe(false);
    expect(without.stdout).not.toContain('report.html');

    const withPage = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html']);
    expect(withPage.stdout).toMatch(/Wrote .*report\.md, .*report\.csv, .*report\.json, .*report\.html\n$/);
    const html = page(withPage);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(details(html)).toEqual(f.grants.map((g) => g.plan.id)); // every grant, in ledger order
    expect(withPage.json!.grants).toHaveLength(12); // the other files are as they were
  });

  it('writes a page for an export without grants', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 0 });
    const html = page(await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html']));
    expect(html).toContain('<p>No grants to draw.</p>');
    expect(html).toContain('<h2 id="grants">Grants (0)</h2>');
    expect(html).not.toContain('<svg class="timeline"');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('draws a bar per grant that gave access, ticks for denied and failed ones, with the warning classes of its findings', async () => {
    // Prepare
    const f = await writeExportFixture({ dir: tempDir(), ...PAGE_SAMPLE });

    // Act
    const result = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock });

    // Assess
    const html = page(result);
    const json = result.json!;
    const bars = new Map(
      all(html, /<rect class="(bar [^"]*)" data-grant="[^"]*"/g).map((classes, i) => [
        all(html, /<rect class="bar [^"]*" data-grant="([^"]*)"/g)[i]!,
        classes.split(' '),
      ]),
    );
    const gaveAccess = json.grants.filter((g) => ['ACTIVE', 'EXPIRED', 'REVOKED'].includes(g.status));
    expect([...bars.keys()].sort()).toEqual(gaveAccess.map((g) => g.id).sort());
    const late = new Set(json.findings.filter((x) => x.code === 'LATE_REVOCATION').map((x) => x.grantId));
    expect(late.size).toBe(3);
    for (const g of gaveAccess) {
      const classes = bars.get(g.id)!;
      expect(classes.includes('late'), `late class of ${g.id}`).toBe(late.has(g.id));
      expect(classes.includes('unreviewed'), `unreviewed class of ${g.id}`).toBe(g.review === 'unreviewed');
      expect(classes.includes('open')).toBe(g.status === 'ACTIVE');
    }
    expect(gaveAccess.some((g) => late.has(g.id) && g.review === 'unreviewed')).toBe(true); // both at once
    const denied = all(html, /<line class="tick denied[^"]*" data-grant="([^"]*)"/g);
    expect(denied.sort()).toEqual(
      json.grants
        .filter((g) => g.status === 'DENIED')
        .map((g) => g.id)
        .sort(),
    );
    expect(all(html, /<line class="tick failed[^"]*" data-grant="([^"]*)"/g)).toEqual(
      json.grants.filter((g) => g.status === 'FAILED').map((g) => g.id),
    );
    // One timeline per profile, and every planned expiry marked.
    expect(all(html, /<section class="profile" data-profile="([^"]*)">/g)).toEqual(['demo', 'prod-db-admin']);
    expect(all(html, /<line class="(planned)"/g)).toHaveLength(gaveAccess.length + 1); // + the legend's
    // The findings table lists every finding, with its message.
    expect(all(html, /<tr class="finding sev-(\w+)"/g)).toEqual(json.findings.map((x) => x.severity));
    for (const x of json.findings) expect(html).toContain(htmlText(x.message, 3000));
    // No activity hook: no activity ticks, and the legend does not promise any.
    expect(html).not.toContain('tick activity');
  });

  it('details each grant: requester, reason, ticket, times, review, chain and its events', async () => {
    const f = await writeExportFixture({ dir: tempDir(), ...PAGE_SAMPLE });
    const result = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock });
    const html = page(result);
    for (const row of result.json!.grants) {
      const start = html.indexOf(`data-grant="${row.id}">`, html.indexOf('<h2 id="grants">'));
      const article = html.slice(start, html.indexOf('</article>', start));
      expect(article).toContain(`<dt>requester</dt><dd>${htmlText(row.requester)}</dd>`);
      expect(article).toContain(`<dt>reason</dt><dd>${htmlText(row.reason)}</dd>`);
      expect(article).toContain(`<dt>ticket</dt><dd>${row.ticket ? htmlText(row.ticket) : '—'}</dd>`);
      expect(article).toContain(`<dt>planned end</dt><dd>${row.plannedEnd}</dd>`);
      expect(article).toContain(`<dt>review</dt><dd>${row.review}`);
      expect(article).toContain(`<dt>chain</dt><dd>${row.chain}</dd>`);
      expect(all(article, /<tr><td>(\d+)<\/td>/g).map(Number)).toEqual(
        Array.from({ length: row.events }, (_, i) => i + 1),
      );
    }
  });

  it('renders every piece of export text as text: markup, script end tags, quotes and bidirectional overrides', async () => {
    // Prepare: the hostile reason (in the sample), a hostile profile name and a hostile requester.
    const hostileProfile = '"><svg onload=alert(3)>';
    const f = await writeExportFixture({
      dir: tempDir(),
      ...PAGE_SAMPLE,
      plan: (i, p) => {
        const planned = PAGE_SAMPLE.plan(i, p);
        return i === 2
          ? {
              ...planned,
              profile: hostileProfile,
              principalArn: "arn:aws:sts::1:assumed-role/x/'onmouseover='alert(4)",
            }
          : planned;
      },
    });

    // Act
    const html = page(await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock }));

    // Assess
    expect(html).not.toMatch(/<script|<img|<svg onload/i);
    expect(html.replace(/="[^"]*"/g, '=""')).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i); // no event handler attribute in any tag
    expect(html).toContain(
      '&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; \\u{202e}evil',
    );
    expect(html).not.toContain('\u202e');
    expect(html).toContain(`data-profile="&quot;&gt;&lt;svg onload=alert(3)&gt;"`);
    expect(html).toContain('&#39;onmouseover=&#39;alert(4)');
    expect(htmlText(HOSTILE_REASON)).not.toMatch(/[<>"']/);
    // Self-contained: no script, no external reference; links only within the page.
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(all(html, /\b(?:href|src|xlink:href|action)="([^"]*)"/g).every((ref) => /^#grant-\d+$/.test(ref))).toBe(
      true,
    );
    expect(html).not.toMatch(/url\(|@import|@font-face|https?:\/\//i);
  });

  it('draws only the newest grants when there are more than it may, and says so', async () => {
    // Prepare
    const f = await writeExportFixture({ dir: tempDir(), grants: 60, eventsPerGrant: 4, files: 3 });

    // Act
    const result = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], {
      clock,
      htmlGrantLimit: 10,
      itemsPerBucket: 23,
    });

    // Assess
    const html = page(result);
    expect(details(html)).toEqual(f.grants.slice(50).map((g) => g.plan.id));
    expect(html).toContain(
      'This page draws the newest 10 of 60 grants, in ledger order; report.csv and report.json have them all.',
    );
    expect(html).toContain('<h2 id="grants">Grants (10 of 60)</h2>');
    const drawn = new Set(f.grants.slice(50).map((g) => g.plan.id));
    const marks = all(html, /<(?:rect|line) class="(?:bar|tick)[^"]*" data-grant="([^"]*)"/g);
    expect(new Set(marks)).toEqual(drawn);
    // Findings of grants not drawn are still listed, without a link.
    const late = result.json!.findings.filter((x) => x.code === 'LATE_REVOCATION');
    expect(late.some((x) => !drawn.has(x.grantId!))).toBe(true);
    expect(
      all(html, /<tr class="finding sev-HIGH" data-code="LATE_REVOCATION">.*?<td class="grant">(.*?)<\/td>/g),
    ).toEqual(
      late.map((x) =>
        drawn.has(x.grantId!) ? expect.stringMatching(/^<a href="#grant-\d+">#\d+<\/a>$/) : `#${x.sequence}`,
      ),
    );
    expect(result.json!.grants).toHaveLength(60);
  });

  it('gives the same page when the export is sorted through many small buckets', async () => {
    const f = await writeExportFixture({ dir: tempDir(), ...PAGE_SAMPLE });
    const one = page(await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock }));
    const many = page(
      await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock, itemsPerBucket: 3 }),
    );
    expect(many).toEqual(one);
  });

  it('lists the first and last events of a long story and counts those between', async () => {
    const f = await writeExportFixture({
      dir: tempDir(),
      grants: 3,
      eventsPerGrant: 45,
      plan: (_, p) => ({ ...p, outcome: 'EXPIRED' }),
    });
    const result = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html']);
    const html = page(result);
    const first = html.slice(html.indexOf('id="grant-0"'), html.indexOf('</article>', html.indexOf('id="grant-0"')));
    const seqs = all(first, /<tr><td>(\d+)<\/td>/g).map(Number);
    const events = result.json!.grants[0]!.events;
    expect(events).toBe(45);
    expect(seqs).toEqual([
      ...Array.from({ length: HTML_EVENTS_HEAD }, (_, i) => i + 1),
      ...Array.from({ length: HTML_EVENTS_TAIL }, (_, i) => events - HTML_EVENTS_TAIL + i + 1),
    ]);
    expect(first).toContain(`… ${events - HTML_EVENTS_HEAD - HTML_EVENTS_TAIL} more event(s), not listed here`);
    expect(first).toContain('<summary>45 event(s)</summary>');
  });

  it('draws activity ticks on a bar when an activity source is given (the action-log hook)', async () => {
    // Prepare
    const f = await writeExportFixture({ dir: tempDir(), ...PAGE_SAMPLE });
    const asked: ActivityWindow[] = [];
    const target = f.grants[1]!.plan.id;
    const activity = async (grant: ActivityWindow) => {
      asked.push(grant);
      return grant.grantId === target
        ? [
            { at: new Date(Date.parse(grant.from) + 60_000).toISOString(), label: 's3:GetObject <b>logs</b>' },
            { at: 'not a time', label: 'dropped' },
          ]
        : [];
    };

    // Act
    const html = page(
      await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock, activity }),
    );

    // Assess
    const row = f.grants[1]!;
    expect(asked.find((a) => a.grantId === target)).toMatchObject({
      requester: row.plan.principalArn,
      profile: row.plan.profile,
      to: row.endedAt,
    });
    expect(asked).toHaveLength(f.grants.filter((g) => ['ACTIVE', 'EXPIRED', 'REVOKED'].includes(g.status)).length); // once per bar
    const ticks = all(html, /<line class="tick activity"[^>]*><title>([^<]*)<\/title>/g);
    expect(ticks).toEqual([expect.stringContaining('s3:GetObject &lt;b&gt;logs&lt;/b&gt;')]);
    expect(html).toContain('</svg>activity</span>'); // in the legend
  });

  it("draws the export's own action log as ticks: each stored call of a grant on its bar, a denied one with its error", async () => {
    // Prepare: action logging's items for the second grant (two calls and its summary), as the capture stores them.
    let target = '';
    const f = await writeExportFixture({
      dir: tempDir(),
      ...PAGE_SAMPLE,
      extraItems: (plans) => {
        const plan = plans[1]!;
        target = plan.id;
        const at = (minutes: number) => new Date(plan.createdAt.getTime() + minutes * 60_000).toISOString();
        return [
          { pk: `ACTIVITY#${plan.id}`, sk: 'SUMMARY', calls: 2, writes: 1, denied: 1, afterEndAllowed: 0 },
          ...[
            { eventTime: at(1), service: 's3.amazonaws.com', action: 'GetObject' },
            { eventTime: at(2), service: 'iam.amazonaws.com', action: 'CreateUser', errorCode: 'AccessDenied' },
          ].map((call, i) => ({
            pk: `ACTIVITY#${plan.id}`,
            sk: `CALL#${call.eventTime}#e${i}`,
            grantId: plan.id,
            ...call,
          })),
        ];
      },
    });

    // Act
    const html = page(await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], { clock }));

    // Assess
    const ticks = all(html, /<line class="tick activity"[^>]*><title>([^<]*)<\/title>/g);
    // (in the order the export's files hold them)
    expect(ticks).toHaveLength(2);
    expect(ticks).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\S+ s3:GetObject$/),
        expect.stringMatching(/^\S+ iam:CreateUser \(AccessDenied\)$/),
      ]),
    );
    expect(target).not.toBe('');
    expect(html).toContain('</svg>activity</span>'); // in the legend
  });
});

describe('audit report page: failure', () => {
  it('leaves no report and no temporary file when writing the page fails', async () => {
    const f = await writeExportFixture({ dir: tempDir(), ...PAGE_SAMPLE });
    const tmp = tempDir();
    const out = join(tempDir(), 'report');
    mkdirSync(out);
    const activity = async (): Promise<never> => {
      throw new Error('action log unreachable');
    };
    const failed = await audit(['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html'], {
      tmpDir: tmp,
      out,
      activity,
    });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe('audit: failed: action log unreachable\n');
    expect(leftIn(out)).toEqual([]); // not even report.md: the files appear together or not at all
    expect(leftIn(tmp)).toEqual([]);
  });
});

describe('docs/auditor.md on the page', () => {
  it('states the limits the page applies', () => {
    const readme = readFileSync('docs/auditor.md', 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`**It draws the newest ${HTML_GRANT_LIMIT.toLocaleString('en-US')} grants**`);
    expect(readme).toContain(`the findings table (${HTML_FINDING_LIMIT} per code, like report.md)`);
    expect(readme).toContain(`(the first ${HTML_EVENTS_HEAD} and last ${HTML_EVENTS_TAIL} of a long story)`);
    expect(readme).toContain(`a heap of ${HTML_GRANT_LIMIT.toLocaleString('en-US')} keys decides`);
    expect(HTML_FINDING_LIMIT).toBe(MARKDOWN_FINDING_LIMIT);
  });
});

describe('NewestCandidates', () => {
  it('says yes to every row that ends among the last in ledger order, met in any order, and to few others', () => {
    // Prepare: 5,000 rows, some sharing a number, some without one, shuffled.
    const random = seededRandom(3);
    const keys: LedgerKey[] = Array.from({ length: 5_000 }, (_, i) => ({
      sequence: i % 997 === 0 ? null : Math.floor(i / 2) + 1,
      id: `g-${i}`,
    }));
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }

    // Act
    const candidates = new NewestCandidates(100);
    const yes = new Set(keys.filter((k) => candidates.offer(k)).map((k) => k.id));

    // Assess
    const newest = [...keys].sort(compareLedger).slice(-100);
    expect(newest.filter((k) => k.sequence === null)).toHaveLength(6); // rows without a number are the last
    for (const k of newest) expect(yes.has(k.id), k.id).toBe(true);
    expect(yes.size).toBeLessThan(1_000); // about limit × (1 + ln(rows / limit)) for a random order
    expect(new NewestCandidates(0).offer({ sequence: 1, id: 'x' })).toBe(false);
  });
});

describe('timelineOf', () => {
  it('takes the activation time from the ACTIVATED event, whatever order the events come in', () => {
    const t = timelineOf([
      {
        seq: 3,
        type: 'EXPIRED',
        at: '2026-11-01T01:00:00Z',
        actor: 'system:expiry',
        outcome: 'SUCCESS',
        details: { lateBySeconds: '4' },
      },
      { seq: 1, type: 'REQUESTED', at: '2026-11-01T00:00:00Z', actor: 'a', outcome: 'SUCCESS', reason: 'why' },
      { seq: 2, type: 'ACTIVATED', at: '2026-11-01T00:00:02Z', actor: 'a', outcome: 'SUCCESS' },
    ]);
    expect(t.activatedAt).toBe('2026-11-01T00:00:02Z');
    expect(t.events.map((e) => e.type)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRED']);
    expect(t.events[0]!.note).toBe('reason=why');
    expect(t.events[2]!.note).toBe('lateBySeconds=4');
    expect(t.omitted).toBe(0);
  });

  it('has no activation time for a grant never activated, and cuts long text', () => {
    const t = timelineOf([
      {
        seq: 1,
        type: 'DENIED',
        at: '2026-11-01T00:00:00Z',
        actor: 'x'.repeat(5_000),
        outcome: 'FAILURE',
        reason: 'y'.repeat(5_000),
      },
    ]);
    expect(t.activatedAt).toBeNull();
    expect(t.events[0]!.actor.length).toBeLessThanOrEqual(200);
    expect(t.events[0]!.note.length).toBeLessThanOrEqual(400);
  });
});
