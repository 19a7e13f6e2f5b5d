/**
 * `report.html`: the compliance report as one self-contained page. Inline CSS and SVG only: no
 * script, no font, no image, no request of any kind (its Content-Security-Policy, `default-src
 * 'none'`, tells the browser so as well, should an escape ever be missed).
 *
 * 1. select — the newest {@link HTML_GRANT_LIMIT} grants in ledger order (the report's step 4
 *    leaves them, with their events, in a temporary file; older grants are only counted);
 * 2. lay out — per profile, each grant that gave access a bar from activation to its actual end
 *    (packed on lanes), its planned expiry marked; attempts that gave no access as ticks;
 * 3. write — heading and figures, the timelines, the findings table, then each drawn grant's
 *    detail, streamed from that file a second time.
 *
 * Memory: the geometry of the drawn grants (a few hundred bytes each). Findings and details stream.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FINDING_CODE_LIST, FINDING_CODES, type Finding, type FindingCode } from './findings.js';
import type { GrantRow } from './grant-analysis.js';
import type { ReportSummary } from './report.js';
import { accountText, htmlText, summaryFigures, TextSink } from './writers.js';

/** Grants the page draws and details: the newest, in ledger order. report.csv and report.json have them all. */
export const HTML_GRANT_LIMIT = 1_000;
/** Findings the page lists per code; report.json has them all. */
export const HTML_FINDING_LIMIT = 200;
/** Events a grant's detail lists: the first ones and the last ones, the count of those between. */
export const HTML_EVENTS_HEAD = 10;
export const HTML_EVENTS_TAIL = 20;
/** Activity ticks drawn on one bar. */
export const HTML_ACTIVITY_LIMIT = 200;

/** One event as a grant's detail lists it (text already cut to size, not yet escaped). */
export interface EventLine {
  readonly seq: number | null;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly outcome: string;
  /** The event's reason and details, as `key=value; …`. */
  readonly note: string;
}

/** What the page needs of one grant besides its row: when access began, and its events (some). */
export interface GrantTimeline {
  /** The ACTIVATED event's time; null when the grant was never activated. */
  readonly activatedAt: string | null;
  /** The first {@link HTML_EVENTS_HEAD} and last {@link HTML_EVENTS_TAIL} events, by seq. */
  readonly events: readonly EventLine[];
  /** Events between those, left out. */
  readonly omitted: number;
}

/** A drawn grant, as the report's step 4 hands it over (one JSON line each, in ledger order). */
export interface PageGrant {
  readonly row: GrantRow;
  readonly timeline: GrantTimeline;
  /** Codes of the findings raised about this grant. */
  readonly codes: readonly FindingCode[];
}

/**
 * What a principal did while holding a grant, drawn as ticks on its bar: the report supplies the
 * calls of the export's action log (`ACTIVITY#<grant>` / `CALL#…` items, docs/action-logging.md);
 * without any, bars carry no activity ticks and the legend does not mention them.
 */
export interface ActivityTick {
  readonly at: string;
  readonly label: string;
}

/** The grant an {@link ActivitySource} is asked about: who held which profile, from when to when. */
export interface ActivityWindow {
  readonly grantId: string;
  readonly requester: string;
  readonly profile: string;
  readonly from: string;
  readonly to: string;
}

/** Supplies activity ticks for one drawn grant (at most {@link HTML_ACTIVITY_LIMIT} are drawn). */
export type ActivitySource = (grant: ActivityWindow) => Promise<readonly ActivityTick[]>;

type Item = Readonly<Record<string, unknown>>;

const cut = (value: unknown, max: number): string => {
  const text =
    typeof value === 'string'
      ? value
      : value === undefined || value === null
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** The page's view of one grant's events (unmarshalled, any order): activation time and a bounded list. */
export function timelineOf(stored: readonly object[]): GrantTimeline {
  const events = [...(stored as readonly Item[])].sort((a, b) => Number(a.seq) - Number(b.seq));
  const activated = events.find((e) => e.type === 'ACTIVATED' && typeof e.at === 'string');
  const line = (e: Item): EventLine => {
    const details =
      typeof e.details === 'object' && e.details !== null
        ? Object.entries(e.details as Item).map(([k, v]) => `${k}=${cut(v, 200)}`)
        : [];
    return {
      seq: typeof e.seq === 'number' ? e.seq : null,
      type: cut(e.type, 40),
      at: cut(e.at, 40),
      actor: cut(e.actor, 200),
      outcome: cut(e.outcome, 20),
      note: cut([...(e.reason ? [`reason=${cut(e.reason, 200)}`] : []), ...details].join('; '), 400),
    };
  };
  const many = events.length > HTML_EVENTS_HEAD + HTML_EVENTS_TAIL;
  const shown = many ? [...events.slice(0, HTML_EVENTS_HEAD), ...events.slice(-HTML_EVENTS_TAIL)] : events;
  return {
    activatedAt: activated ? (activated.at as string) : null,
    events: shown.map(line),
    omitted: many ? events.length - shown.length : 0,
  };
}

/** Where a row stands in ledger order (the order of report.csv): by ledger number, rows without one last; then by id. */
export interface LedgerKey {
  readonly sequence: number | null;
  readonly id: string;
}

/** Compares two rows in ledger order. */
export function compareLedger(a: LedgerKey, b: LedgerKey): number {
  return (a.sequence ?? Infinity) - (b.sequence ?? Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Says of each row, met in any order, whether it may be among the `limit` last in ledger order:
 * yes for every row that ends up there (a row among the last of all is among the last of those
 * met so far), and for few others, so the page's facts are kept for little more than the rows it
 * draws. Holds at most `limit` keys (a min-heap of the latest met).
 */
export class NewestCandidates {
  private readonly heap: LedgerKey[] = [];

  constructor(private readonly limit: number) {}

  offer(key: LedgerKey): boolean {
    const heap = this.heap;
    if (this.limit <= 0) return false;
    if (heap.length < this.limit) {
      heap.push(key);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (compareLedger(heap[i]!, heap[parent]!) >= 0) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
      return true;
    }
    if (compareLedger(key, heap[0]!) < 0) return false; // before the earliest of the latest `limit`: never drawn
    heap[0] = key;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && compareLedger(heap[left]!, heap[least]!) < 0) least = left;
      if (right < heap.length && compareLedger(heap[right]!, heap[least]!) < 0) least = right;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
    return true;
  }
}

/** What {@link writeHtmlReport} writes about. */
export interface HtmlReportInput {
  readonly generatedAt: string;
  readonly asOf: string;
  readonly source: string;
  readonly summary: ReportSummary;
  /** When the table was read: open grants' bars end here. */
  readonly snapshotAt: Date;
  /** The findings of one code, in report order. */
  readonly findingsOf: (code: FindingCode) => AsyncIterable<Finding>;
  /** The temporary file of {@link PageGrant} lines, in ledger order. */
  readonly grantsFile: string;
  /** Grants in the whole report (the file holds the newest of them). */
  readonly grants: number;
  readonly activity?: ActivitySource;
}

const KNOWN_STATUSES = new Set(['ACTIVE', 'EXPIRED', 'REVOKED', 'PENDING', 'FAILED', 'DENIED']);
const statusClass = (status: string) => `s-${KNOWN_STATUSES.has(status) ? status.toLowerCase() : 'other'}`;
const count = (n: number) => n.toLocaleString('en-US');
const ms = (value: string | null | undefined): number | undefined => {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
};

/** One grant on a timeline: a bar (access given) or a tick (an attempt that gave none). */
interface Mark {
  /** Position in the page: the detail's anchor is `grant-<n>`. */
  readonly n: number;
  readonly grantId: string;
  readonly requester: string;
  readonly profile: string;
  readonly kind: 'bar' | 'denied' | 'failed' | 'pending' | 'other';
  readonly from: number;
  readonly to: number;
  readonly planned: number | undefined;
  readonly classes: string;
  readonly title: string;
}

/** The CSS classes that say what to look at in a grant (also on its detail). */
function warningClasses(page: PageGrant): string[] {
  const { row, codes } = page;
  return [
    ...(codes.includes('LATE_REVOCATION') ? ['late'] : []),
    ...(row.review === 'unreviewed' ? ['unreviewed'] : []),
    ...(codes.includes('REVIEW_OVERDUE') ? ['overdue'] : []),
    ...(row.review === 'unjustified' ? ['unjustified'] : []),
    ...(row.chain !== 'ok' ? ['broken'] : []),
  ];
}

function markOf(page: PageGrant, n: number, snapshotAt: number): Mark | undefined {
  const { row, timeline } = page;
  const start = ms(row.start);
  const ended = ms(row.actualEnd);
  const planned = ms(row.plannedEnd);
  const open = row.status === 'ACTIVE' || row.status === 'PENDING';
  const activated = ms(timeline.activatedAt);
  const gaveAccess =
    activated !== undefined || row.status === 'ACTIVE' || row.status === 'EXPIRED' || row.status === 'REVOKED';
  const who = cut(row.requester || '(unknown requester)', 200);
  const where = row.account ? ` in ${cut(accountText(row), 100)}` : '';
  const base = { n, grantId: row.id, requester: who, profile: row.profile, planned };
  const late =
    row.lateSeconds !== null
      ? `; ended ${row.lateSeconds} s ${row.lateSeconds < 0 ? 'before' : 'after'} its planned end`
      : '';
  if (gaveAccess) {
    const from = activated ?? start;
    if (from === undefined) return undefined;
    const to = Math.max(from, ended ?? (open ? snapshotAt : (planned ?? from)));
    const classes = [
      'bar',
      statusClass(row.status),
      ...(open ? ['open'] : []),
      ...(activated === undefined ? ['no-activation'] : []),
      ...warningClasses(page),
    ].join(' ');
    const title =
      `#${row.sequence ?? '?'} ${who}${where}: ${row.status}; activated ${timeline.activatedAt ?? '(no ACTIVATED event)'}; planned end ${row.plannedEnd || '?'}; ` +
      `${open ? `still ${row.status} at the export` : `ended ${row.actualEnd || '?'}`}${late}; review ${row.review}${row.chain !== 'ok' ? '; CHAIN BROKEN' : ''}`;
    return { ...base, kind: 'bar', from, to, classes, title };
  }
  const kind =
    row.status === 'DENIED'
      ? 'denied'
      : row.status === 'FAILED'
        ? 'failed'
        : row.status === 'PENDING'
          ? 'pending'
          : 'other';
  const at = kind === 'failed' ? (ended ?? start) : start;
  if (at === undefined) return undefined;
  const classes = ['tick', kind, ...warningClasses(page)].join(' ');
  const title = `#${row.sequence ?? '?'} ${who}${where}: ${row.status} at ${kind === 'failed' ? row.actualEnd || row.start : row.start}; reason: ${cut(row.reason, 200)}`;
  return { ...base, kind, from: at, to: at, classes, title };
}

// Timeline geometry, in SVG user units (the SVG scales to the page's width).
const WIDTH = 1100;
const PAD = 10;
const LANE = 18;
const BAR = 12;
const TICK_ROW = 20;
const AXIS = 26;
const MIN_BAR = 2;
const MINUTE = 60_000;
const DAY = 86_400_000;
const STEPS = [
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  60 * MINUTE,
  2 * 60 * MINUTE,
  3 * 60 * MINUTE,
  6 * 60 * MINUTE,
  12 * 60 * MINUTE,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

interface Axis {
  readonly t0: number;
  readonly t1: number;
  readonly x: (t: number) => number;
  readonly ticks: ReadonlyArray<{ readonly x: number; readonly label: string }>;
}

function axisOf(t0: number, t1: number): Axis {
  if (!(t1 > t0)) {
    t0 -= 30 * MINUTE;
    t1 += 30 * MINUTE;
  }
  const pad = (t1 - t0) * 0.02;
  t0 -= pad;
  t1 += pad;
  const x = (t: number) => PAD + ((t - t0) / (t1 - t0)) * (WIDTH - 2 * PAD);
  const step = STEPS.find((s) => (t1 - t0) / s <= 10) ?? Math.ceil((t1 - t0) / 10 / DAY) * DAY;
  const ticks: Array<{ x: number; label: string }> = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const iso = new Date(t).toISOString();
    ticks.push({ x: x(t), label: step < DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10) });
  }
  return { t0, t1, x, ticks };
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toString();

/** One profile's timeline: attempts row, bars on lanes, axis. Written mark by mark. */
async function writeTimeline(
  out: TextSink,
  profile: string,
  marks: readonly Mark[],
  axis: Axis,
  activity: ActivitySource | undefined,
): Promise<void> {
  const bars = marks.filter((m) => m.kind === 'bar').sort((a, b) => a.from - b.from || a.n - b.n);
  const ticks = marks.filter((m) => m.kind !== 'bar');
  // Greedy lanes: each bar on the first lane free at its start (concurrent grants stack).
  const laneEnds: number[] = [];
  const lanes = bars.map((bar) => {
    const x0 = axis.x(bar.from);
    const x1 = Math.max(x0 + MIN_BAR, axis.x(Math.max(bar.to, bar.planned ?? bar.to)));
    let lane = laneEnds.findIndex((end) => end + 2 <= x0);
    if (lane < 0) lane = laneEnds.push(x1) - 1;
    else laneEnds[lane] = x1;
    return lane;
  });
  const top = ticks.length ? TICK_ROW : 4;
  const height = top + Math.max(1, laneEnds.length) * LANE + AXIS;
  await out.write(
    `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Timeline of profile ${htmlText(profile, 200)}" data-profile="${htmlText(profile, 200)}">\n`,
  );
  await out.write(
    `<g class="grid">${axis.ticks.map((t) => `<line x1="${f1(t.x)}" x2="${f1(t.x)}" y1="0" y2="${height - AXIS + 4}"/>`).join('')}</g>\n`,
  );
  if (ticks.length) {
    await out.write(`<text class="row-label" x="${PAD}" y="12">attempts</text>\n<g class="attempts">`);
    for (const m of ticks) {
      const x = f1(axis.x(m.from));
      await out.write(
        `<a href="#grant-${m.n}"><title>${htmlText(m.title, 600)}</title><line class="${m.classes}" data-grant="${htmlText(m.grantId, 200)}" x1="${x}" x2="${x}" y1="4" y2="${TICK_ROW - 4}"/></a>`,
      );
    }
    await out.write('</g>\n');
  }
  await out.write('<g class="lanes">');
  for (let i = 0; i < bars.length; i++) {
    const m = bars[i]!;
    const y = top + lanes[i]! * LANE;
    const x0 = axis.x(m.from);
    const x1 = Math.max(x0 + MIN_BAR, axis.x(m.to));
    let svg = `<a href="#grant-${m.n}" class="grant"><title>${htmlText(m.title, 800)}</title>`;
    svg += `<rect class="${m.classes}" data-grant="${htmlText(m.grantId, 200)}" x="${f1(x0)}" y="${y}" width="${f1(x1 - x0)}" height="${BAR}" rx="2"/>`;
    if (m.planned !== undefined) {
      const xp = axis.x(m.planned);
      if (m.to > m.planned && x1 - xp >= 0.5)
        svg += `<rect class="overrun" x="${f1(xp)}" y="${y}" width="${f1(x1 - xp)}" height="${BAR}"/>`;
      svg += `<line class="planned" x1="${f1(xp)}" x2="${f1(xp)}" y1="${y - 2}" y2="${y + BAR + 2}"/>`;
    }
    if (activity) {
      const window: ActivityWindow = {
        grantId: m.grantId,
        requester: m.requester,
        profile: m.profile,
        from: new Date(m.from).toISOString(),
        to: new Date(m.to).toISOString(),
      };
      for (const tick of (await activity(window)).slice(0, HTML_ACTIVITY_LIMIT)) {
        const at = ms(tick.at);
        if (at === undefined) continue;
        const x = f1(axis.x(at));
        svg += `<line class="tick activity" x1="${x}" x2="${x}" y1="${y + 1}" y2="${y + BAR - 1}"><title>${htmlText(`${tick.at} ${tick.label}`, 300)}</title></line>`;
      }
    }
    await out.write(`${svg}</a>`);
  }
  await out.write('</g>\n<g class="axis">');
  for (const t of axis.ticks) {
    const anchor = t.x < 40 ? ' text-anchor="start"' : t.x > WIDTH - 40 ? ' text-anchor="end"' : '';
    await out.write(`<text x="${f1(t.x)}" y="${height - 8}"${anchor}>${htmlText(t.label)}</text>`);
  }
  await out.write('</g>\n</svg>\n');
}

async function* pageGrants(path: string): AsyncIterable<PageGrant> {
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity }))
      if (line) yield JSON.parse(line) as PageGrant;
  } finally {
    input.destroy();
  }
}

const STYLE = `
:root { color-scheme: light; --late: #c62828; --unreviewed: #e69b00; --ok: #4f6d8f; --open: #2e7d32; --denied: #7b1fa2; --muted: #667; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0; color: #1b1f24; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 24px; margin: 0 0 6px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #dde; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; } code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta { color: var(--muted); margin: 0; } .meta span { margin-right: 14px; }
.verdict { display: inline-block; margin: 10px 0 4px; padding: 6px 10px; border-radius: 4px; font-weight: 600; }
.verdict.high { background: #fdecea; color: #8e1b1b; border: 1px solid #f3b8b3; } .verdict.clean { background: #e8f5e9; color: #1b5e20; border: 1px solid #b7dfb9; }
.notice { background: #fff8e1; border: 1px solid #f0d890; padding: 6px 10px; border-radius: 4px; margin: 8px 0; }
ul.warnings { background: #fff8e1; border: 1px solid #f0d890; border-radius: 4px; padding: 6px 10px 6px 28px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid #eef; }
dl.figures { columns: 3 300px; column-gap: 32px; margin: 0; } dl.figures div { display: flex; justify-content: space-between; gap: 12px; border-bottom: 1px solid #eef; padding: 2px 0; break-inside: avoid; }
dl.figures dt { color: #333; } dl.figures dd { margin: 0; font-variant-numeric: tabular-nums; white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0 2px; color: #333; font-size: 13px; } .legend svg { vertical-align: -2px; margin-right: 4px; }
section.profile h3 { margin-top: 14px; } .profile .counts { color: var(--muted); font-weight: normal; font-size: 13px; }
svg.timeline { display: block; background: #fafbfc; border: 1px solid #e3e6ea; border-radius: 4px; }
svg.timeline .grid line { stroke: #e3e6ea; stroke-width: 1; } svg.timeline .axis text { font-size: 11px; fill: #555; } svg.timeline .axis text:not([text-anchor]) { text-anchor: middle; }
svg.timeline .row-label { font-size: 10px; fill: #888; }
rect.bar { fill: var(--ok); } rect.bar.open { fill: var(--open); } rect.bar.unreviewed { fill: var(--unreviewed); }
rect.bar.late { fill: var(--late); } rect.bar.late.unreviewed { stroke: var(--unreviewed); stroke-width: 2.5; }
rect.bar.unjustified { stroke: #6a1b9a; stroke-width: 2; } rect.bar.broken { stroke: #000; stroke-width: 2; stroke-dasharray: 3 2; }
rect.overrun { fill: #5d0a0a; opacity: .55; } line.planned { stroke: #111; stroke-width: 1.6; }
line.tick { stroke-width: 2.2; } line.tick.denied { stroke: var(--denied); } line.tick.failed { stroke: #555; } line.tick.pending, line.tick.other { stroke: #999; }
line.tick.activity { stroke: #fff; stroke-width: 1; }
svg.timeline a:hover rect.bar { filter: brightness(1.15); }
table.findings td.sev { font-weight: 600; white-space: nowrap; } tr.sev-HIGH td.sev { color: #b71c1c; } tr.sev-MEDIUM td.sev { color: #a15c00; } tr.sev-LOW td.sev { color: #455a64; }
table.findings tr.code th { background: #f3f5f8; font-weight: 600; } table.findings td.grant { white-space: nowrap; }
article.grant { border: 1px solid #e3e6ea; border-left: 5px solid var(--ok); border-radius: 4px; padding: 6px 12px 8px; margin: 10px 0; }
article.grant.unreviewed { border-left-color: var(--unreviewed); } article.grant.late, article.grant.broken { border-left-color: var(--late); }
article.grant h3 { margin: 2px 0 6px; font-size: 14px; } .badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; background: #eceff1; margin-left: 4px; }
.badge.warn { background: #fdecea; color: #8e1b1b; } .badge.s-active { background: #e8f5e9; } .badge.s-denied { background: #f3e5f5; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 1px 14px; margin: 0; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
table.events { font-size: 12.5px; } table.events td { overflow-wrap: anywhere; } details summary { cursor: pointer; color: #345; margin-top: 4px; }
`;

const LEGEND = [
  ['bar', 'access given, reviewed', 'rect', 'bar s-expired'],
  ['bar', 'still active at the export', 'rect', 'bar open'],
  ['bar', 'unreviewed', 'rect', 'bar unreviewed'],
  ['bar', 'removed late', 'rect', 'bar late'],
  ['bar', 'late and unreviewed', 'rect', 'bar late unreviewed'],
  ['bar', 'reviewed: unjustified', 'rect', 'bar s-expired unjustified'],
  ['bar', 'audit chain broken', 'rect', 'bar broken'],
  ['line', 'planned expiry', 'line', 'planned'],
  ['line', 'denied attempt', 'line', 'tick denied'],
  ['line', 'failed activation', 'line', 'tick failed'],
] as const;

function legend(withActivity: boolean): string {
  const items = LEGEND.map(([, label, shape, classes]) => {
    const glyph =
      shape === 'rect'
        ? `<rect class="${classes}" x="1" y="2" width="22" height="10" rx="2"/>`
        : `<line class="${classes}" x1="12" x2="12" y1="0" y2="14"/>`;
    return `<span><svg width="24" height="14" aria-hidden="true">${glyph}</svg>${label}</span>`;
  });
  if (withActivity)
    items.push(
      '<span><svg width="24" height="14" aria-hidden="true"><rect class="bar s-expired" x="1" y="2" width="22" height="10"/><line class="tick activity" x1="12" x2="12" y1="3" y2="11"/></svg>activity</span>',
    );
  return `<div class="legend">${items.join('')}</div>\n`;
}

/** Writes report.html (see the module's steps). */
export async function writeHtmlReport(path: string, input: HtmlReportInput): Promise<void> {
  const s = input.summary;
  // 1. select (the file holds the newest grants already) and 2. lay out
  const marks = new Map<string, Mark[]>();
  const drawnIds = new Map<string, number>();
  let drawn = 0;
  let undrawable = 0;
  let t0 = Infinity;
  let t1 = -Infinity;
  const snapshot = input.snapshotAt.getTime();
  for await (const page of pageGrants(input.grantsFile)) {
    const n = drawn++;
    if (!drawnIds.has(page.row.id)) drawnIds.set(page.row.id, n);
    const mark = markOf(page, n, snapshot);
    if (!mark) {
      undrawable++;
      continue;
    }
    t0 = Math.min(t0, mark.from);
    t1 = Math.max(t1, mark.to, mark.planned ?? mark.to);
    const list = marks.get(page.row.profile);
    if (list) list.push(mark);
    else marks.set(page.row.profile, [mark]);
  }

  // 3. write
  const out = new TextSink(path);
  try {
    const high = s.findings.bySeverity.HIGH;
    await out.write(
      '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">\n` +
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="referrer" content="no-referrer">\n' +
        `<title>Break-glass compliance report: ${htmlText(s.exportArn ?? input.source, 300)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n` +
        '<h1>Break-glass compliance report</h1>\n' +
        `<p class="meta"><span>Source: <code>${htmlText(input.source, 400)}</code></span><span>Export: <code>${htmlText(s.exportArn ?? '(no manifest)', 300)}</code>${s.exportTime ? `, exported ${htmlText(s.exportTime, 40)}` : ''}</span></p>\n` +
        `<p class="meta"><span>As of ${htmlText(input.asOf)}</span><span>generated ${htmlText(input.generatedAt)}</span><span>Policy: revocation late beyond ${s.policy.lateSeconds} s; review due ${s.policy.reviewDays} days after a grant ends; profiles ${htmlText(s.policy.profiles ?? '(none)', 300)}</span></p>\n` +
        (high > 0
          ? `<p class="verdict high">${count(high)} HIGH finding(s): see Findings.</p>\n`
          : '<p class="verdict clean">No HIGH findings.</p>\n') +
        (s.warnings.length
          ? `<h2>Warnings</h2>\n<ul class="warnings">${s.warnings.map((w) => `<li>${htmlText(w)}</li>`).join('')}</ul>\n`
          : '') +
        '<h2>Summary</h2>\n<dl class="figures">\n' +
        summaryFigures(s)
          .map(([label, value]) => `<div><dt>${htmlText(label)}</dt><dd>${htmlText(value)}</dd></div>`)
          .join('\n') +
        '\n</dl>\n',
    );

    await out.write(`<h2 id="timelines">Timelines</h2>\n`);
    if (input.grants > drawn) {
      await out.write(
        `<p class="notice cap">This page draws the newest ${count(drawn)} of ${count(input.grants)} grants, in ledger order; report.csv and report.json have them all.</p>\n`,
      );
    }
    await out.write(
      `<p class="meta">One timeline per profile, times in UTC. A bar runs from activation to the actual end (to the export for grants still open); the black mark is the planned expiry. Hover for details, click for the grant.${undrawable ? ` ${count(undrawable)} drawn grant(s) have no valid time and appear only below.` : ''}</p>\n`,
    );
    await out.write(legend(input.activity !== undefined));
    if (!marks.size) await out.write('<p>No grants to draw.</p>\n');
    const axis = marks.size ? axisOf(t0, t1) : undefined;
    for (const profile of [...marks.keys()].sort()) {
      const list = marks.get(profile)!;
      const bars = list.filter((m) => m.kind === 'bar');
      const late = bars.filter((m) => /\blate\b/.test(m.classes)).length;
      const unreviewed = list.filter((m) => /\bunreviewed\b/.test(m.classes)).length;
      const denied = list.filter((m) => m.kind === 'denied').length;
      await out.write(
        `<section class="profile" data-profile="${htmlText(profile, 200)}">\n<h3>${htmlText(profile || '(no profile)', 200)} <span class="counts">` +
          `${count(bars.length)} with access${late ? `, ${count(late)} late` : ''}${unreviewed ? `, ${count(unreviewed)} unreviewed` : ''}${denied ? `, ${count(denied)} denied` : ''}` +
          `${list.length - bars.length - denied ? `, ${count(list.length - bars.length - denied)} failed or pending` : ''}</span></h3>\n`,
      );
      await writeTimeline(out, profile, list, axis!, input.activity);
      await out.write('</section>\n');
    }

    await out.write(`<h2 id="findings">Findings (${count(s.findings.total)})</h2>\n`);
    if (s.findings.total === 0) await out.write('<p>None.</p>\n');
    else {
      await out.write(
        '<table class="findings"><thead><tr><th>severity</th><th>code</th><th>grant</th><th>finding</th></tr></thead><tbody>\n',
      );
      for (const code of FINDING_CODE_LIST) {
        const n = s.findings.byCode[code];
        if (!n) continue;
        await out.write(
          `<tr class="code" data-code="${code}"><th colspan="4">${code} (${FINDING_CODES[code].severity}): ${htmlText(FINDING_CODES[code].title)}, ${count(n)}</th></tr>\n`,
        );
        let listed = 0;
        for await (const item of input.findingsOf(code)) {
          if (listed++ >= HTML_FINDING_LIMIT) break;
          const at = item.grantId !== undefined ? drawnIds.get(item.grantId) : undefined;
          const grant =
            at !== undefined
              ? `<a href="#grant-${at}">#${item.sequence ?? htmlText(item.grantId, 40)}</a>`
              : item.sequence !== undefined
                ? `#${item.sequence}`
                : '';
          await out.write(
            `<tr class="finding sev-${item.severity}" data-code="${item.code}"><td class="sev">${item.severity}</td><td><code>${item.code}</code></td><td class="grant">${grant}</td><td>${htmlText(item.message, 3000)}</td></tr>\n`,
          );
        }
        if (n > HTML_FINDING_LIMIT)
          await out.write(
            `<tr class="more"><td colspan="4">… and ${count(n - HTML_FINDING_LIMIT)} more: all are in report.json.</td></tr>\n`,
          );
      }
      await out.write('</tbody></table>\n');
    }

    await out.write(
      `<h2 id="grants">Grants (${count(drawn)}${input.grants > drawn ? ` of ${count(input.grants)}` : ''})</h2>\n`,
    );
    let n = 0;
    for await (const page of pageGrants(input.grantsFile)) await out.write(grantDetail(page, n++));
    await out.write('</main>\n</body>\n</html>\n');
    await out.close();
  } catch (error) {
    out.destroy();
    throw error;
  }
}

function grantDetail(page: PageGrant, n: number): string {
  const { row, timeline, codes } = page;
  const open = row.status === 'ACTIVE' || row.status === 'PENDING';
  const dash = (value: string) => (value ? htmlText(value) : '—');
  const warnings = warningClasses(page);
  const facts: Array<[string, string]> = [
    ['grant', `<code>${htmlText(row.id, 200)}</code>`],
    ['requester', dash(row.requester)],
    ['profile', dash(row.profile)],
    ['account', dash(accountText(row))],
    ['reason', dash(row.reason)],
    ['ticket', dash(row.ticket)],
    ['requested', dash(row.start)],
    ['activated', timeline.activatedAt ? htmlText(timeline.activatedAt) : '—'],
    ['planned end', dash(row.plannedEnd)],
    ['actual end', row.actualEnd ? htmlText(row.actualEnd) : open ? 'still open at the export' : '—'],
    ['late', row.lateSeconds === null ? '—' : `${row.lateSeconds} s${row.lateSeconds < 0 ? ' (ended early)' : ''}`],
    ['review', `${htmlText(row.review)}${row.reviewedBy ? ` by ${htmlText(row.reviewedBy)}` : ''}`],
    ['chain', htmlText(row.chain)],
    [
      'findings',
      codes.length ? [...new Set(codes)].map((c) => `<span class="badge warn">${c}</span>`).join('') : 'none',
    ],
  ];
  const events = timeline.events.map((e, i) => {
    const gap =
      timeline.omitted && i === HTML_EVENTS_HEAD
        ? `<tr class="omitted"><td colspan="6">… ${count(timeline.omitted)} more event(s), not listed here</td></tr>`
        : '';
    return `${gap}<tr><td>${e.seq ?? ''}</td><td>${htmlText(e.type)}</td><td>${htmlText(e.at)}</td><td>${htmlText(e.actor)}</td><td>${htmlText(e.outcome)}</td><td>${htmlText(e.note)}</td></tr>`;
  });
  return (
    `<article class="grant ${[statusClass(row.status), ...warnings].join(' ')}" id="grant-${n}" data-grant="${htmlText(row.id, 200)}">\n` +
    `<h3>#${row.sequence ?? '?'} <span class="badge ${statusClass(row.status)}">${htmlText(row.status || '?', 20)}</span>${warnings.map((w) => `<span class="badge warn">${w}</span>`).join('')} ${htmlText(row.profile, 100)}${row.account ? ` in ${htmlText(accountText(row), 100)}` : ''}: ${htmlText(row.requester, 200)}</h3>\n` +
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>\n` +
    `<details><summary>${count(row.events)} event(s)</summary><table class="events"><thead><tr><th>seq</th><th>type</th><th>at</th><th>actor</th><th>outcome</th><th>reason, details</th></tr></thead><tbody>${events.join('')}</tbody></table></details>\n` +
    '</article>\n'
  );
}
