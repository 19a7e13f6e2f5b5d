/**
 * report.html as a browser renders it: Debian's chromium (installed by scripts/ensure-chromium.mjs
 * before `npm test`) driven by playwright-core, offline. Asserts on the rendered DOM and on every
 * request the page makes (none but the file itself), and takes a screenshot.
 *
 * `AUDIT_SCREENSHOT=docs/audit-report.png npx vitest run test/unit/audit/html-browser.test.ts`
 * regenerates the picture in docs/auditor.md from the deterministic sample export.
 */

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { htmlText } from '../../../audit/writers.js';
import { HOSTILE_REASON, PAGE_SAMPLE, PAGE_SAMPLE_AS_OF, writeExportFixture } from '../../support/export-fixture.js';
import { audit, tempDir } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
/** Why the browser test cannot run here, if it cannot. */
const missing = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (scripts/ensure-chromium.mjs installs Debian's chromium when run as root with apt-get)`;
/** The launch flags: headless, no sandbox (root in a container), and nothing that reaches the network on its own. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the sample export goes: a fixed path when the picture is regenerated (its source line shows the path), else a temp dir. */
function sampleDir(): string {
  if (!process.env.AUDIT_SCREENSHOT) return tempDir();
  const dir = join(tmpdir(), 'breakglass-audit-sample');
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** What the test reads from the rendered page. */
interface Rendered {
  readonly bars: ReadonlyArray<{ readonly id: string; readonly classes: string[]; readonly width: number }>;
  readonly denied: string[];
  readonly profiles: Array<string | null>;
  readonly findings: ReadonlyArray<{ readonly code: string | null; readonly text: string | null }>;
  readonly details: ReadonlyArray<{
    readonly id: string | null;
    readonly reason: string | null;
    readonly events: number;
  }>;
  readonly scripts: number;
  readonly images: number;
  readonly lateFill: string;
  readonly unreviewedFill: string;
}

/** Runs in the page (as source: this project compiles without the DOM's types). */
const PROBE = `(() => ({
  bars: [...document.querySelectorAll('svg.timeline rect.bar')].map((r) => ({ id: r.getAttribute('data-grant'), classes: [...r.classList], width: r.getBBox().width })),
  denied: [...document.querySelectorAll('svg.timeline line.tick.denied')].map((l) => l.getAttribute('data-grant')),
  profiles: [...document.querySelectorAll('section.profile')].map((s) => s.getAttribute('data-profile')),
  findings: [...document.querySelectorAll('table.findings tr.finding')].map((tr) => ({ code: tr.getAttribute('data-code'), text: tr.lastElementChild.textContent })),
  details: [...document.querySelectorAll('article.grant')].map((a) => ({
    id: a.getAttribute('data-grant'),
    reason: [...a.querySelectorAll('dt')].find((dt) => dt.textContent === 'reason').nextElementSibling.textContent,
    events: a.querySelectorAll('table.events tbody tr').length,
  })),
  scripts: document.scripts.length,
  images: document.images.length,
  // The stylesheet applied: a late bar is red, an unreviewed one amber.
  lateFill: getComputedStyle(document.querySelector('svg.timeline rect.bar.late')).fill,
  unreviewedFill: getComputedStyle(document.querySelector('svg.timeline rect.bar.unreviewed:not(.late)')).fill,
}))()`;

describe('audit report page in a browser', () => {
  it.skipIf(missing !== undefined)(
    `renders the sample offline: a bar per grant with its warning classes, denied ticks, findings, details, text as text${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      // Prepare
      const f = await writeExportFixture({ dir: sampleDir(), ...PAGE_SAMPLE });
      const result = await audit(
        ['report', f.prefixDir, '--as-of', PAGE_SAMPLE_AS_OF, '--html', '--profiles', 'config/profiles.json'],
        { clock: () => new Date(PAGE_SAMPLE_AS_OF) },
      );
      const json = result.json!;
      const url = pathToFileURL(join(result.out, 'report.html')).href;
      const context = await chromium.launchPersistentContext(join(tempDir(), 'user-data'), {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: { width: 1280, height: 1400 },
      });
      const requests: string[] = [];
      const dialogs: string[] = [];
      context.on('request', (request) => requests.push(request.url()));
      try {
        const page = await context.newPage();
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });

        // Act
        await page.goto(url, { waitUntil: 'load' });
        const shot = await page.screenshot({ fullPage: false });
        const dom = (await page.evaluate(PROBE)) as Rendered;

        // Assess
        expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
        if (process.env.AUDIT_SCREENSHOT) {
          mkdirSync(dirname(process.env.AUDIT_SCREENSHOT), { recursive: true });
          writeFileSync(process.env.AUDIT_SCREENSHOT, shot);
        }
        expect(requests).toEqual([url]); // nothing but the file: no font, image, script or prefetch
        expect(dialogs).toEqual([]);
        const late = new Set(json.findings.filter((x) => x.code === 'LATE_REVOCATION').map((x) => x.grantId));
        const gaveAccess = json.grants.filter((g) => ['ACTIVE', 'EXPIRED', 'REVOKED'].includes(g.status));
        expect(dom.bars.map((b) => b.id).sort()).toEqual(gaveAccess.map((g) => g.id).sort());
        for (const g of gaveAccess) {
          const bar = dom.bars.find((b) => b.id === g.id)!;
          expect(bar.classes.includes('late'), `late class of ${g.id}`).toBe(late.has(g.id));
          expect(bar.classes.includes('unreviewed'), `unreviewed class of ${g.id}`).toBe(g.review === 'unreviewed');
          expect(bar.width).toBeGreaterThan(0);
        }
        expect(late.size).toBe(3);
        expect(dom.lateFill).toBe('rgb(198, 40, 40)');
        expect(dom.unreviewedFill).toBe('rgb(230, 155, 0)');
        expect(dom.denied.sort()).toEqual(
          json.grants
            .filter((g) => g.status === 'DENIED')
            .map((g) => g.id)
            .sort(),
        );
        expect(dom.profiles).toEqual(['demo', 'prod-db-admin']);
        expect(dom.findings).toEqual(json.findings.map((x) => ({ code: x.code, text: x.message })));
        expect(json.findings.map((x) => x.code)).toEqual(
          expect.arrayContaining(['LATE_REVOCATION', 'REVIEW_OVERDUE', 'MISSING_TICKET', 'DENIED_ATTEMPTS']),
        );
        expect(dom.details.map((d) => d.id)).toEqual(json.grants.map((g) => g.id));
        expect(dom.details.map((d) => d.events)).toEqual(json.grants.map((g) => g.events));
        // The hostile reason is text on the page, its bidirectional override made visible; nothing ran or loaded.
        const hostile = dom.details.find((d) => d.id === f.grants[11]!.plan.id)!;
        expect(hostile.reason).toBe(HOSTILE_REASON.replace('\u202E', '\\u{202e}'));
        expect(htmlText(hostile.reason)).toContain('&lt;/script&gt;');
        expect(dom.scripts).toBe(0);
        expect(dom.images).toBe(0);
      } finally {
        await context.close();
        if (process.env.AUDIT_SCREENSHOT)
          rmSync(join(tmpdir(), 'breakglass-audit-sample'), { recursive: true, force: true });
      }
    },
  );
});
