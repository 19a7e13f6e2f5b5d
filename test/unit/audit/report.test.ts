import { copyFileSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ExportFixture, type ExportFixtureOptions, writeExportFixture } from '../../support/export-fixture.js';
import { audit, filesPerGrant, leftIn, ofCode, tempDir } from './support.js';

const AS_OF = '2026-11-05T00:00:00Z';
const asOfMs = Date.parse(AS_OF);

async function fixture(options: Partial<ExportFixtureOptions> = {}): Promise<ExportFixture> {
  return writeExportFixture({ dir: tempDir(), grants: 300, eventsPerGrant: 5, files: 4, ...options });
}

describe('audit report: figures per grant', () => {
  it('reports every generated grant with its status, times, lateness, review and a verified chain', async () => {
    // Prepare
    const f = await fixture();
    const spread = await filesPerGrant(f.dataFiles);
    expect([...spread.values()].filter((files) => files.size > 1).length).toBeGreaterThan(200); // items really are spread over files

    // Act
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    // Assess
    expect(code).toBe(1); // the fixture has late revocations
    expect(json!.summary).toMatchObject({
      grants: 300,
      events: f.events,
      itemsRead: f.items,
      itemsExpected: f.items,
      manifest: true,
      dataFiles: 4,
      chains: { ok: 300, broken: 0 },
    });
    expect(json!.grants.map((g) => g.sequence)).toEqual(f.grants.map((g) => g.sequence)); // ledger order
    for (const g of f.grants) {
      const row = json!.grants.find((r) => r.id === g.plan.id)!;
      expect(row).toEqual({
        id: g.plan.id,
        sequence: g.sequence,
        requester: g.plan.principalArn,
        profile: g.plan.profile,
        account: '',
        accountAlias: '',
        risks: '',
        status: g.status,
        reason: g.plan.reason,
        ticket: g.plan.ticket ?? '',
        start: g.plan.createdAt.toISOString(),
        plannedEnd: g.expiresAt,
        actualEnd: g.endedAt ?? '',
        lateSeconds: g.lateSeconds,
        review: g.review,
        reviewedBy:
          g.review === 'justified' || g.review === 'unjustified'
            ? 'arn:aws:sts::123456789012:assumed-role/Security/reviewer'
            : '',
        chain: 'ok',
        events: g.events,
        // No action logging in this export: no activity judged.
        activityCalls: null,
        activityWrites: null,
        activityDenied: null,
        activityAfterEnd: null,
        firstCall: '',
        lastCall: '',
      });
    }
    // The fixture covers every outcome and every review label.
    expect(new Set(f.grants.map((g) => g.status))).toEqual(
      new Set(['DENIED', 'FAILED', 'ACTIVE', 'EXPIRED', 'REVOKED']),
    );
    expect(new Set(f.grants.map((g) => g.review))).toEqual(
      new Set(['justified', 'unjustified', 'unreviewed', 'not needed', 'not yet due']),
    );
    expect(f.grants.some((g) => g.status === 'REVOKED' && g.lateSeconds! < 0)).toBe(true);
  });

  it('finds exactly the late revocations, the overdue reviews and the denied attempts that were generated', async () => {
    const f = await fixture();
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    const late = f.grants.filter((g) => g.lateSeconds !== null && g.lateSeconds > 300).map((g) => g.plan.id);
    expect(late.length).toBeGreaterThan(0);
    expect(
      ofCode(json!, 'LATE_REVOCATION')
        .map((x) => x.grantId)
        .sort(),
    ).toEqual(late.sort());
    expect(ofCode(json!, 'LATE_REVOCATION')[0]).toMatchObject({
      severity: 'HIGH',
      message: expect.stringMatching(/kept access 900 s past its expiry/),
    });

    const overdue = f.grants
      .filter((g) => g.reviewState === 'DUE' && Date.parse(g.endedAt!) < asOfMs - 3 * 86_400_000)
      .map((g) => g.plan.id);
    expect(overdue.length).toBeGreaterThan(0);
    expect(
      ofCode(json!, 'REVIEW_OVERDUE')
        .map((x) => x.grantId)
        .sort(),
    ).toEqual(overdue.sort());

    const denied = new Map<string, number>();
    for (const g of f.grants.filter((x) => x.status === 'DENIED'))
      denied.set(g.plan.principalArn, (denied.get(g.plan.principalArn) ?? 0) + 1);
    expect(new Map(ofCode(json!, 'DENIED_ATTEMPTS').map((x) => [x.principal!, x.count!]))).toEqual(denied);
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([]);
    expect(ofCode(json!, 'LEDGER_GAP')).toEqual([]);
  });

  it('measures lateness and review deadlines against the thresholds given', async () => {
    const f = await fixture();
    const { json } = await audit([
      'report',
      f.prefixDir,
      '--as-of',
      '2026-12-31T00:00:00Z',
      '--late-seconds',
      '30',
      '--review-days',
      '40',
    ]);
    const late = f.grants.filter((g) => g.lateSeconds !== null && g.lateSeconds > 30).map((g) => g.plan.id);
    expect(
      ofCode(json!, 'LATE_REVOCATION')
        .map((x) => x.grantId)
        .sort(),
    ).toEqual(late.sort());
    const overdue = f.grants.filter(
      (g) => g.reviewState === 'DUE' && Date.parse(g.endedAt!) < Date.parse('2026-12-31T00:00:00Z') - 40 * 86_400_000,
    );
    expect(ofCode(json!, 'REVIEW_OVERDUE')).toHaveLength(overdue.length);
  });

  it('exits 0 when nothing is HIGH, and reports a grant still ACTIVE long after its expiry as late', async () => {
    const calm: ExportFixtureOptions['plan'] = (_, p) => ({
      ...p,
      endOffsetSeconds: p.outcome === 'EXPIRED' ? 5 : p.endOffsetSeconds,
    });
    const ok = await fixture({ plan: calm });
    expect((await audit(['report', ok.prefixDir, '--as-of', AS_OF])).code).toBe(0);

    // The same table exported two hours later: the ACTIVE grants' expiry never ran.
    const stale = await fixture({ plan: calm, exportTime: new Date(Date.parse(ok.exportTime) + 2 * 3600_000) });
    const { code, json } = await audit(['report', stale.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(1);
    const active = stale.grants.filter((g) => g.status === 'ACTIVE').map((g) => g.plan.id);
    expect(
      ofCode(json!, 'LATE_REVOCATION')
        .map((x) => x.grantId)
        .sort(),
    ).toEqual(active.sort());
    expect(ofCode(json!, 'LATE_REVOCATION')[0]!.message).toMatch(
      /was still ACTIVE in the export \(taken at 2026-11-01T07:09:00.000Z\), \d+ s after its expiry/,
    );
  });

  it('reports an activation without the ticket its profile requires, but not a denied attempt without one', async () => {
    const f = await fixture({
      plan: (i, p) =>
        i === 21
          ? { ...p, outcome: 'EXPIRED', profile: 'prod-db-admin', ticket: undefined }
          : i === 7
            ? { ...p, profile: 'prod-db-admin', ticket: undefined }
            : i === 22
              ? { ...p, outcome: 'EXPIRED', profile: 'retired-profile', ticket: undefined }
              : p,
    });
    expect(f.grants[7]!.status).toBe('DENIED');
    const { json, stderr } = await audit([
      'report',
      f.prefixDir,
      '--as-of',
      AS_OF,
      '--profiles',
      'config/profiles.json',
    ]);
    expect(ofCode(json!, 'MISSING_TICKET')).toEqual([
      expect.objectContaining({ grantId: f.grants[21]!.plan.id, severity: 'MEDIUM', sequence: 22 }),
    ]);
    expect(json!.summary.grantsOfUnknownProfiles).toBe(1);
    expect(stderr).toContain(
      'warning: 1 grant(s) belong to profiles not in config/profiles.json: their ticket rule was not checked.',
    );
  });

  it('gives the same report when the export is sorted through many small buckets', async () => {
    const f = await fixture();
    const one = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    const many = await audit(['report', f.prefixDir, '--as-of', AS_OF], { itemsPerBucket: 37 });
    expect(many.json!.grants).toEqual(one.json!.grants);
    expect(many.json!.findings).toEqual(one.json!.findings);
  });
});

describe('audit report: tampering', () => {
  it("reports an event whose reason was changed as CHAIN_BROKEN at that event's seq", async () => {
    const f = await fixture({ tamper: [{ kind: 'event-reason', grant: 10, seq: 2 }] });
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(1);
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([
      expect.objectContaining({
        grantId: f.grants[10]!.plan.id,
        seq: 2,
        severity: 'HIGH',
        sequence: 11,
        message: expect.stringContaining('event 2 was changed after it was written'),
      }),
    ]);
    expect(json!.grants[10]!.chain).toBe('broken at event 2: event 2 was changed after it was written');
    expect(json!.summary.chains).toEqual({ ok: 299, broken: 1 });
  });

  it('reports a deleted event as missing at its seq, and a deleted last event at the grant record', async () => {
    const f = await fixture({
      tamper: [
        { kind: 'delete-event', grant: 3, seq: 2 },
        { kind: 'delete-event', grant: 4, seq: 5 },
      ],
    });
    expect(f.grants[4]!.events).toBe(5);
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    const broken = new Map(ofCode(json!, 'CHAIN_BROKEN').map((x) => [x.grantId, x]));
    expect(broken.size).toBe(2);
    expect(broken.get(f.grants[3]!.plan.id)).toMatchObject({
      seq: 2,
      message: expect.stringContaining('event 2 is missing'),
    });
    expect(broken.get(f.grants[4]!.plan.id)).toMatchObject({
      seq: 0,
      message: expect.stringContaining('counts 5 events but 4 exist'),
    });
  });

  it('reports a deleted grant record as orphan events and a gap in the ledger at its number', async () => {
    const f = await fixture({ tamper: [{ kind: 'delete-grant', grant: 41 }] });
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(1);
    expect(ofCode(json!, 'ORPHAN_EVENTS')).toEqual([
      expect.objectContaining({
        grantId: f.grants[41]!.plan.id,
        count: f.grants[41]!.events,
        principal: f.grants[41]!.plan.principalArn,
        severity: 'HIGH',
      }),
    ]);
    expect(ofCode(json!, 'LEDGER_GAP')).toEqual([
      expect.objectContaining({
        sequence: 42,
        count: 1,
        message: expect.stringMatching(/^Ledger number 42 has no grant record/),
      }),
    ]);
    expect(json!.grants).toHaveLength(299);
    expect(json!.summary.ledger).toMatchObject({ counter: 300, missingNumbers: 1 });
  });

  it('reports a grant whose reason was changed as CHAIN_BROKEN at the first event', async () => {
    const f = await fixture({ tamper: [{ kind: 'grant-reason', grant: 99, reason: 'routine maintenance' }] });
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([
      expect.objectContaining({
        grantId: f.grants[99]!.plan.id,
        seq: 1,
        message: expect.stringContaining('does not link to the grant record'),
      }),
    ]);
    expect(json!.grants[99]!.reason).toBe('routine maintenance');
  });

  it('reports a record whose review outcome or expiry was edited (fields outside the chain) as RECORD_MISMATCH', async () => {
    const plan: ExportFixtureOptions['plan'] = (i, p) =>
      i === 30
        ? { ...p, outcome: 'EXPIRED', review: 'unjustified' }
        : i === 31
          ? { ...p, outcome: 'EXPIRED', endOffsetSeconds: 1200, extensions: 0 }
          : p;
    const f = await fixture({
      plan,
      tamper: [
        { kind: 'grant-field', grant: 30, field: 'reviewOutcome', value: 'justified' },
        // Moving the expiry later hides a late revocation from anyone who trusts the record.
        { kind: 'grant-field', grant: 31, field: 'expiresAt', value: '2026-11-01T01:30:00Z' },
      ],
    });
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    const mismatches = new Map(ofCode(json!, 'RECORD_MISMATCH').map((x) => [x.grantId, x.message]));
    expect(mismatches.size).toBe(2);
    expect(mismatches.get(f.grants[30]!.plan.id)).toContain(
      'reviewOutcome is "justified" but the events say "unjustified"',
    );
    expect(mismatches.get(f.grants[31]!.plan.id)).toContain(
      `expiresAt is "2026-11-01T01:30:00Z" but the events say "${f.grants[31]!.expiresAt}"`,
    );
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([]);
  });

  it('reports ledger numbers handed out with no grant, a grant beyond the counter, and a missing counter', async () => {
    const gap = await audit(['report', (await fixture({ ledgerLast: 303 })).prefixDir, '--as-of', AS_OF]);
    expect(ofCode(gap.json!, 'LEDGER_GAP')).toEqual([
      expect.objectContaining({
        sequence: 301,
        count: 3,
        message: expect.stringMatching(/^Ledger numbers 301–303 \(3\) have no grant record/),
      }),
    ]);

    // Numbers the store recorded as voided (their first write failed) are accounted for, not gaps.
    const voided = await audit([
      'report',
      (await fixture({ ledgerLast: 303, voided: [301, 303] })).prefixDir,
      '--as-of',
      AS_OF,
    ]);
    expect(ofCode(voided.json!, 'LEDGER_GAP')).toEqual([expect.objectContaining({ sequence: 302, count: 1 })]);
    expect(voided.json!.summary.ledger).toMatchObject({ missingNumbers: 1, voided: 2 });

    const behind = await fixture({ ledgerLast: 298 });
    const ahead = await audit(['report', behind.prefixDir, '--as-of', AS_OF]);
    expect(ofCode(ahead.json!, 'LEDGER_AHEAD').map((x) => x.sequence)).toEqual([299, 300]);
    expect(ofCode(ahead.json!, 'LEDGER_GAP')).toEqual([]);

    const none = await audit(['report', (await fixture({ ledgerLast: null })).prefixDir, '--as-of', AS_OF]);
    expect(none.code).toBe(1);
    expect(ofCode(none.json!, 'LEDGER_GAP')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('ledger counter (LEDGER/SEQUENCE) is missing') }),
    ]);
  });

  it('finds gaps across the boundaries of its row ranges', async () => {
    const f = await fixture({
      tamper: [40, 41, 42, 43, 120].map((grant) => ({ kind: 'delete-grant' as const, grant })),
    });
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF], { itemsPerBucket: 42 });
    expect(ofCode(json!, 'LEDGER_GAP').map((x) => [x.sequence, x.count])).toEqual([
      [41, 4],
      [121, 1],
    ]);
  });
});

describe('audit report: export layouts and manifests', () => {
  it('accepts the prefix, the export folder and the manifest summary, with the same result', async () => {
    const f = await fixture();
    const results = await Promise.all(
      [f.prefixDir, f.exportDir, f.summaryPath!].map((source) => audit(['report', source, '--as-of', AS_OF])),
    );
    for (const r of results) {
      expect(r.json!.source).toBe(f.exportDir);
      expect(r.json!.summary.exportArn).toBe(f.exportArn);
    }
    expect(results[1]!.json!.grants).toEqual(results[0]!.json!.grants);
    expect(results[2]!.json!.findings).toEqual(results[0]!.json!.findings);
  });

  it('reads the newest of several exports under a prefix and says so', async () => {
    const dir = tempDir();
    const older = await writeExportFixture({
      dir,
      grants: 50,
      exportId: '01700000000000-aaaaaaaa',
      exportTime: new Date('2026-11-02T00:00:00Z'),
    });
    const newer = await writeExportFixture({
      dir,
      grants: 80,
      seed: 2,
      exportId: '01600000000000-bbbbbbbb',
      exportTime: new Date('2026-11-03T00:00:00Z'),
    });
    expect(older.prefixDir).toBe(newer.prefixDir);
    const { json, stderr } = await audit(['report', newer.prefixDir, '--as-of', AS_OF]);
    expect(json!.summary.exportArn).toBe(newer.exportArn);
    expect(json!.grants).toHaveLength(80);
    expect(stderr).toContain(
      `warning: 2 exports found under ${newer.prefixDir}; reporting on the newest, ${newer.exportArn}`,
    );
    expect(json!.summary.warnings[0]).toMatch(/^2 exports found/);
  });

  it("reads the emulator's layout (one gzipped file, no manifest) and warns that counts cannot be cross-checked", async () => {
    const f = await fixture({ layout: 'moto', tamper: [{ kind: 'event-reason', grant: 5, seq: 3 }] });
    expect(f.summaryPath).toBeUndefined();
    expect(f.dataFiles[0]).toMatch(/AWSDynamoDB\/[0-9a-f-]{36}\/data\/[0-9a-f-]{36}\.gz$/);
    const { json, stderr } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(stderr).toContain('has no manifest');
    expect(json!.summary).toMatchObject({
      manifest: false,
      itemsExpected: null,
      exportArn: null,
      grants: 300,
      events: f.events,
      itemsRead: f.items,
    });
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([expect.objectContaining({ grantId: f.grants[5]!.plan.id, seq: 3 })]);
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([]);
  });

  it('reports a deleted data file, an altered item count and a file added after the export', async () => {
    const f = await fixture();
    const [first, second] = f.dataFiles;
    // Prepare: delete one file, add an unlisted one, and lie about the count of another in the manifest.
    unlinkSync(first!);
    copyFileSync(second!, join(f.exportDir, 'data', 'extra00000000000000000000.json.gz'));
    const manifest = join(f.exportDir, 'manifest-files.json');
    const entries = readFileSync(manifest, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { itemCount: number; dataFileS3Key: string });
    const secondEntry = entries.find((e) => e.dataFileS3Key.endsWith(second!.slice(second!.lastIndexOf('/'))))!;
    const realCount = secondEntry.itemCount;
    secondEntry.itemCount += 1;
    writeFileSync(manifest, entries.map((e) => JSON.stringify(e)).join('\n'));

    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    expect(code).toBe(1);
    const messages = ofCode(json!, 'MANIFEST_MISMATCH').map((x) => x.message);
    expect(messages).toHaveLength(5);
    expect(
      messages.some((m) =>
        m.includes(`${manifest} does not match its checksum in ${join(f.exportDir, 'manifest-files.md5')}`),
      ),
    ).toBe(true); // the file list was rewritten
    expect(messages.some((m) => m.includes(`${first} is listed in the manifest`) && m.includes('but missing'))).toBe(
      true,
    );
    expect(messages.some((m) => m.includes('extra00000000000000000000.json.gz is not in the manifest'))).toBe(true);
    expect(
      messages.some((m) => m.includes(`${second} holds ${realCount} items but the manifest says ${realCount + 1}`)),
    ).toBe(true);
    expect(messages.some((m) => m.includes('the summary'))).toBe(true); // the file list no longer adds up to the summary
    expect(json!.summary.itemsRead).toBeLessThan(f.items);
  });

  it('reports lines that are not DynamoDB JSON items', async () => {
    const f = await fixture({ layout: 'moto' });
    const file = f.dataFiles[0]!;
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    writeFileSync(file, gzipSync(`${text}{"Item":{"pk":{"S":"GRANT#x"}}}\nnot json\n`));
    const { json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([
      expect.objectContaining({ count: 2, message: expect.stringContaining('2 line(s) of') }),
    ]);
  });

  it('removes its temporary files, after a report and after a failure', async () => {
    const tmp = tempDir();
    const f = await fixture();
    await audit(['report', f.prefixDir, '--as-of', AS_OF], { tmpDir: tmp });
    expect(leftIn(tmp)).toEqual([]);

    writeFileSync(
      f.dataFiles[2]!,
      Buffer.concat([readFileSync(f.dataFiles[2]!).subarray(0, 200), Buffer.from('corrupt')]),
    );
    const out = join(tempDir(), 'report');
    mkdirSync(out);
    const failed = await audit(['report', f.prefixDir, '--as-of', AS_OF], { tmpDir: tmp, out });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(
      new RegExp(`^audit: cannot read ${f.dataFiles[2]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+\\n$`),
    );
    expect(leftIn(tmp)).toEqual([]);
    expect(leftIn(out)).toEqual([]); // no partial report
    rmSync(out, { recursive: true });
  });
});
