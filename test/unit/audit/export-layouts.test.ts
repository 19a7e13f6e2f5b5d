/**
 * The report over exports as AWS documents them ("DynamoDB table export output format"), built
 * by the fixture from that layout and not from the emulator's output: incremental exports,
 * full and incremental exports under one prefix, exports still running or failed, empty
 * partitions, and checksums.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ExportFixtureOptions, writeExportFixture } from '../../support/export-fixture.js';
import { audit, ofCode, tempDir } from './support.js';

const AS_OF = '2026-11-05T00:00:00Z';
/** No late revocation: an export that holds no HIGH finding unless a test adds one. */
const calm: ExportFixtureOptions['plan'] = (_, p) => ({
  ...p,
  endOffsetSeconds: p.outcome === 'EXPIRED' ? 5 : p.endOffsetSeconds,
});
const small = (options: Partial<ExportFixtureOptions> = {}) =>
  writeExportFixture({ dir: tempDir(), grants: 40, eventsPerGrant: 4, files: 3, plan: calm, ...options });
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('audit report: incremental exports', () => {
  it('refuses an incremental export with exit 2, saying only full exports are read and why', async () => {
    // Prepare: the guide's incremental layout, data in the shared AWSDynamoDB/data/ folder
    const f = await small({ exportType: 'INCREMENTAL_EXPORT' });
    expect(f.dataFiles.every((p) => p.startsWith(join(f.prefixDir, 'AWSDynamoDB', 'data')))).toBe(true);
    expect(JSON.parse(readFileSync(f.summaryPath!, 'utf8'))).toMatchObject({
      exportType: 'INCREMENTAL_EXPORT',
      outputView: 'NEW_AND_OLD_IMAGES',
    });
    expect(JSON.parse(gunzipSync(readFileSync(f.dataFiles[0]!)).toString('utf8').split('\n')[0]!)).toEqual({
      Metadata: expect.anything(),
      Keys: expect.anything(),
      NewImage: expect.anything(),
    });

    // Act: the prefix, and the summary named directly
    const results = await Promise.all(
      [f.prefixDir, f.summaryPath!].map((source) => audit(['report', source, '--as-of', AS_OF])),
    );

    // Assess
    for (const { code, stderr, json } of results) {
      expect(code).toBe(2);
      expect(stderr).toMatch(
        new RegExp(
          `^audit: ${escapeRegExp(f.summaryPath!)} describes an incremental export \\(changes from \\S+ to \\S+\\); only full exports are read, because an incremental export holds only the items changed in its window.*\\n$`,
        ),
      );
      expect(stderr).not.toContain('data file missing');
      expect(json).toBeUndefined();
    }
  });

  it('reports on the newest full export when an incremental one under the same prefix ended later', async () => {
    // Prepare: two full exports and, later than both, an incremental one (its endTime is the newest of all)
    const dir = tempDir();
    await writeExportFixture({
      dir,
      grants: 30,
      plan: calm,
      exportId: '01761957900000-aaaaaaaa',
      exportTime: new Date('2026-11-01T00:45:00Z'),
    });
    const full = await writeExportFixture({
      dir,
      grants: 40,
      seed: 2,
      plan: calm,
      exportId: '01761958200000-bbbbbbbb',
      exportTime: new Date('2026-11-01T00:50:00Z'),
    });
    const incremental = await writeExportFixture({
      dir,
      grants: 5,
      seed: 3,
      plan: calm,
      exportType: 'INCREMENTAL_EXPORT',
      exportId: '01761998400000-cccccccc',
      exportTime: new Date('2026-11-01T12:00:00Z'),
    });

    // Act
    const { code, json, stderr } = await audit(['report', full.prefixDir, '--as-of', AS_OF]);

    // Assess: the full export's grants, nothing from the incremental one, no false findings about its files
    expect(code).toBe(0);
    expect(json!.summary).toMatchObject({
      exportArn: full.exportArn,
      grants: 40,
      itemsRead: full.items,
      itemsExpected: full.items,
    });
    expect(json!.source).toBe(full.exportDir);
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([]);
    expect(stderr).toContain(
      `warning: 2 exports found under ${full.prefixDir}; reporting on the newest, ${full.exportArn} (exported 2026-11-01T00:50:00.000Z).`,
    );
    expect(stderr).toContain(
      `warning: 1 incremental export(s) under ${full.prefixDir} were not read (${incremental.exportArn}): only full exports are read.`,
    );
  });
});

describe('audit report: exports still running or failed', () => {
  it('exits 2 for an export with _started and data but no manifest, instead of reading it as the emulator', async () => {
    const f = await small({ finished: false });
    expect(f.summaryPath).toBeUndefined();
    const { code, stderr, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `audit: the export at ${f.exportDir} is unfinished or failed: it has _started, 3 data file(s) but no manifest-summary.json, which DynamoDB writes last, when the export completes (and it is not the local emulator's layout). Check it with "aws dynamodb describe-export" and report on a completed export\n`,
    );
    expect(json).toBeUndefined();
  });

  it('exits 2 for a failed export that left only _started', async () => {
    const dir = tempDir();
    const folder = join(dir, 'exports', 'dt=2026-11-24', 'AWSDynamoDB', '01764000000000-0badf00d');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, '_started'), '');
    const { code, stderr } = await audit(['report', dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^audit: the export at .*01764000000000-0badf00d is unfinished or failed: it has _started but no manifest-summary\.json/,
    );
  });

  it('reads a finished full export beside an unfinished one, and says which was left out', async () => {
    const dir = tempDir();
    const done = await writeExportFixture({ dir, grants: 40, plan: calm, exportId: '01761958200000-bbbbbbbb' });
    const running = await writeExportFixture({
      dir,
      grants: 45,
      seed: 2,
      plan: calm,
      exportId: '01762128000000-cccccccc',
      finished: false,
    });
    const { code, json, stderr } = await audit(['report', done.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(0);
    expect(json!.summary).toMatchObject({ exportArn: done.exportArn, grants: 40 });
    expect(stderr).toContain(
      `warning: 1 export folder(s) under ${done.prefixDir} have no manifest-summary.json (still running, or failed) and were not read: ${running.exportDir}.`,
    );
  });

  it("reads the emulator's layout only when its names prove it: a uuid4 folder with one data/<uuid4>.gz and nothing else", async () => {
    // The emulator's own layout reads (the report tests cover what it finds).
    const moto = await small({ layout: 'moto' });
    const read = await audit(['report', moto.prefixDir, '--as-of', AS_OF]);
    expect(read.code).not.toBe(2);
    expect(read.json!.summary).toMatchObject({ manifest: false, grants: 40 });

    // With a _started beside it, it is an unfinished export of DynamoDB's.
    const started = await small({ layout: 'moto' });
    writeFileSync(join(started.exportDir, '_started'), '');
    expect((await audit(['report', started.prefixDir, '--as-of', AS_OF])).stderr).toMatch(
      /^audit: the export at .* is unfinished or failed: it has _started, 1 data file\(s\) but no manifest-summary\.json/,
    );

    // DynamoDB's names for the folder or the file are not the emulator's.
    const awsId = await small({ layout: 'moto' });
    const renamed = join(awsId.prefixDir, 'AWSDynamoDB', '01764000000000-0badf00d');
    renameSync(awsId.exportDir, renamed);
    expect((await audit(['report', awsId.prefixDir, '--as-of', AS_OF])).stderr).toMatch(
      /^audit: the export at .*01764000000000-0badf00d is unfinished or failed/,
    );

    const awsName = await small({ layout: 'moto' });
    renameSync(awsName.dataFiles[0]!, join(awsName.exportDir, 'data', 'bafybeiczss3yxay3o4abnabbb.json.gz'));
    const second = await audit(['report', awsName.prefixDir, '--as-of', AS_OF]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('is unfinished or failed');
  });
});

describe('audit report: review facts', () => {
  it('reports a record whose reviewer or review time was edited, or that claims a review no event records, as RECORD_MISMATCH', async () => {
    // Prepare: grant 5 reviewed as justified, grant 6 ended and unreviewed
    const f = await small({
      plan: (i, p) =>
        i === 5
          ? { ...p, outcome: 'EXPIRED', endOffsetSeconds: 5, review: 'justified' }
          : i === 6
            ? { ...p, outcome: 'REVOKED', endOffsetSeconds: -300, review: undefined }
            : { ...p, endOffsetSeconds: p.outcome === 'EXPIRED' ? 5 : p.endOffsetSeconds },
      tamper: [
        {
          kind: 'grant-field',
          grant: 5,
          field: 'reviewedBy',
          value: 'arn:aws:sts::123456789012:assumed-role/Security/mallory',
        },
        { kind: 'grant-field', grant: 6, field: 'reviewState', value: 'DONE' },
      ],
    });

    // Act
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    // Assess
    expect(code).toBe(1);
    const mismatches = new Map(ofCode(json!, 'RECORD_MISMATCH').map((x) => [x.grantId, x.message]));
    expect(mismatches.size).toBe(2);
    expect(mismatches.get(f.grants[5]!.plan.id)).toContain(
      'reviewedBy is "arn:aws:sts::123456789012:assumed-role/Security/mallory" but the events say "arn:aws:sts::123456789012:assumed-role/Security/reviewer"',
    );
    expect(mismatches.get(f.grants[6]!.plan.id)).toContain('reviewState is "DONE" but the events say "DUE"');
    expect(ofCode(json!, 'CHAIN_BROKEN')).toEqual([]);
  });
});

describe('audit report: empty partitions', () => {
  it('reads a 0-byte data file that the manifest lists with itemCount 0 as an empty partition', async () => {
    const f = await small({ emptyPartitions: 2 });
    const empty = f.dataFiles.slice(3);
    expect(empty.map((p) => readFileSync(p).length)).toEqual([0, 0]);
    const listed = readFileSync(join(f.exportDir, 'manifest-files.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { itemCount: number; md5Checksum: string; dataFileS3Key: string });
    expect(listed.filter((e) => e.itemCount === 0)).toHaveLength(2);

    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    expect(code).toBe(0);
    expect(json!.summary).toMatchObject({ dataFiles: 5, itemsRead: f.items, itemsExpected: f.items, grants: 40 });
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([]);
  });

  it('reports a data file emptied to 0 bytes as a finding on that file, without aborting the report', async () => {
    const f = await small();
    const victim = f.dataFiles[1]!;
    writeFileSync(victim, '');
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(1);
    const onFile = ofCode(json!, 'MANIFEST_MISMATCH').filter((x) => x.file === victim);
    expect(onFile.map((x) => x.message)).toEqual([
      expect.stringMatching(/holds 0 items but the manifest says \d+/),
      expect.stringContaining('does not match the MD5 its manifest gives'),
    ]);
    expect(json!.summary.itemsRead).toBeLessThan(f.items);
  });
});

describe('audit report: checksums', () => {
  it("writes the manifest as the guide does: md5Checksum the file's base64 MD5, etag S3's one-part multipart ETag", async () => {
    // The guide's example entry pairs md5Checksum sQMSpEILNgoQmarvDFonGQ== with etag af83d6f217c19b8b0fff8023d8ca4716-1:
    // the ETag of a one-part multipart upload, the MD5 of the part's MD5. So the etag is not the file's MD5, and a
    // copy of the export (re-uploaded in other parts) gets another: the report checks md5Checksum only.
    const md5OfMd5 = (base64: string) => createHash('md5').update(Buffer.from(base64, 'base64')).digest('hex');
    expect(`${md5OfMd5('sQMSpEILNgoQmarvDFonGQ==')}-1`).toBe('af83d6f217c19b8b0fff8023d8ca4716-1');

    const f = await small({ emptyPartitions: 1 });
    const entries = readFileSync(join(f.exportDir, 'manifest-files.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { md5Checksum: string; etag: string; dataFileS3Key: string });
    for (const entry of entries) {
      const path = f.dataFiles.find((p) =>
        p.endsWith(entry.dataFileS3Key.slice(entry.dataFileS3Key.lastIndexOf('/'))),
      )!;
      expect(entry.md5Checksum).toBe(createHash('md5').update(readFileSync(path)).digest('base64'));
      expect(entry.etag).toBe(`${md5OfMd5(entry.md5Checksum)}-1`);
    }
  });

  it('reports a data file whose bytes changed but whose item count did not, naming the file', async () => {
    // Prepare: flip the freeze flag in whichever file holds it (an item no chain covers)
    const f = await small();
    const holder = f.dataFiles.find((p) =>
      gunzipSync(readFileSync(p)).toString('utf8').includes('"CONTROL#FREEZE"},"sk":{"S":"STATE"}'),
    )!;
    const text = gunzipSync(readFileSync(holder)).toString('utf8');
    const edited = text.replace(/("pk":\{"S":"CONTROL#FREEZE"\},"sk":\{"S":"STATE"\},"all":\{"BOOL":)false/, '$1true');
    expect(edited).not.toBe(text);
    writeFileSync(holder, gzipSync(edited));

    // Act
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    // Assess
    expect(code).toBe(1);
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([
      expect.objectContaining({
        file: holder,
        severity: 'HIGH',
        message: expect.stringMatching(
          new RegExp(
            `^Data file ${escapeRegExp(holder)} does not match the MD5 its manifest gives \\(md5Checksum \\S+; the file's is \\S+, \\d+ bytes\\)`,
          ),
        ),
      }),
    ]);
  });

  it('reports a manifest that does not match its checksum file', async () => {
    const f = await small();
    // The same summary, reformatted: same facts, other bytes than the checksum covers.
    writeFileSync(f.summaryPath!, JSON.stringify(JSON.parse(readFileSync(f.summaryPath!, 'utf8')), null, 2));
    const { code, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF]);
    expect(code).toBe(1);
    expect(ofCode(json!, 'MANIFEST_MISMATCH')).toEqual([
      expect.objectContaining({
        file: f.summaryPath,
        message: `${f.summaryPath} does not match its checksum in ${join(f.exportDir, 'manifest-summary.md5')}: the manifest was altered after the export. Compare both with their copies in the versioned bucket.`,
      }),
    ]);
  });

  it('accepts checksum files named as the guide names them (.checksum) and written in hex; warns when there are none or they are not digests', async () => {
    const documented = await small({ checksumFiles: { name: 'checksum', encoding: 'hex' } });
    const ok = await audit(['report', documented.prefixDir, '--as-of', AS_OF]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toContain('checksum');

    const none = await small({ checksumFiles: false });
    const unverified = await audit(['report', none.prefixDir, '--as-of', AS_OF]);
    expect(unverified.code).toBe(0);
    expect(unverified.stderr).toContain(
      `warning: ${none.summaryPath} has no checksum file beside it (manifest-summary.md5 or .checksum): it was not verified against one.`,
    );

    const junk = await small();
    writeFileSync(join(junk.exportDir, 'manifest-files.md5'), 'not a digest');
    const unread = await audit(['report', junk.prefixDir, '--as-of', AS_OF]);
    expect(unread.code).toBe(0);
    expect(unread.stderr).toContain(
      `warning: ${join(junk.exportDir, 'manifest-files.md5')} does not hold an MD5 digest (hex or base64)`,
    );
  });
});
