import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore, s3ClientDefaults } from '../../../audit/s3-object-store.js';
import { writeExportFixture } from '../../support/export-fixture.js';
import { audit, tempDir } from './support.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const AS_OF = '2026-11-05T00:00:00Z';
const BUCKET = 'breakglass-audit';

/** Serves a local directory as the bucket: ListObjectsV2 in pages of `pageSize`, GetObject as streams. */
function serve(root: string, pageSize = 3): string[] {
  const keys: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else keys.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  const requested: string[] = [];
  s3.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix?: string; ContinuationToken?: string }) => {
    expect(input.Bucket).toBe(BUCKET);
    requested.push(`list ${input.Prefix ?? ''}`);
    const matching = keys.filter((k) => k.startsWith(input.Prefix ?? ''));
    const start = Number(input.ContinuationToken ?? 0);
    const page = matching.slice(start, start + pageSize);
    const more = start + pageSize < matching.length;
    return {
      Contents: page.map((Key) => ({
        Key,
        Size: statSync(join(root, Key)).size,
        LastModified: statSync(join(root, Key)).mtime,
      })),
      KeyCount: page.length,
      IsTruncated: more,
      ...(more ? { NextContinuationToken: String(start + pageSize) } : {}),
    };
  });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    requested.push(`get ${input.Key}`);
    if (!keys.includes(input.Key))
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    const path = join(root, ...input.Key.split('/'));
    const body = Object.assign(createReadStream(path), { transformToString: async () => readFileSync(path, 'utf8') });
    return { Body: body };
  });
  return requested;
}

const store = (bucket: string) => new S3ObjectStore({ bucket, awsSdkV3Client: new S3Client({ region: 'us-east-1' }) });

describe('audit report over S3', () => {
  it('reads an export through paged ListObjectsV2 and GetObject streams, as it reads a local one', async () => {
    // Prepare
    const root = tempDir();
    const f = await writeExportFixture({
      dir: root,
      grants: 120,
      eventsPerGrant: 4,
      files: 3,
      tamper: [{ kind: 'delete-event', grant: 9, seq: 2 }],
    });
    const requested = serve(root); // 8 objects: summary, file list, their .md5, _started, 3 data files

    // Act
    const remote = await audit(['report', `s3://${BUCKET}/exports/dt=2026-11-24`, '--as-of', AS_OF], {
      s3Store: store,
    });
    s3.reset();
    const local = await audit(['report', f.prefixDir, '--as-of', AS_OF]);

    // Assess
    expect(remote.code).toBe(1);
    expect(remote.json!.source).toBe(`s3://${BUCKET}/exports/dt=2026-11-24/AWSDynamoDB/${f.exportId}/`);
    expect(remote.json!.grants).toEqual(local.json!.grants);
    expect(remote.json!.findings).toEqual(local.json!.findings);
    expect(remote.json!.summary).toMatchObject({ itemsRead: f.items, itemsExpected: f.items, manifest: true });
    expect(requested.filter((r) => r.startsWith('list'))).toEqual(
      Array(Math.ceil((5 + f.dataFiles.length) / 3)).fill('list exports/dt=2026-11-24/'),
    );
    expect(requested.filter((r) => r.startsWith('get')).sort()).toEqual(
      [
        ...['manifest-summary.json', 'manifest-summary.md5', 'manifest-files.json', 'manifest-files.md5'].map(
          (name) => `get exports/dt=2026-11-24/AWSDynamoDB/${f.exportId}/${name}`,
        ),
        ...f.dataFiles.map(
          (d) => `get exports/dt=2026-11-24/AWSDynamoDB/${f.exportId}/data/${d.slice(d.lastIndexOf('/') + 1)}`,
        ),
      ].sort(),
    );
  });

  it('reads the manifest summary named by its S3 URI', async () => {
    const root = tempDir();
    const f = await writeExportFixture({ dir: root, grants: 30 });
    serve(root);
    const { json } = await audit(
      [
        'report',
        `s3://${BUCKET}/exports/dt=2026-11-24/AWSDynamoDB/${f.exportId}/manifest-summary.json`,
        '--as-of',
        AS_OF,
      ],
      { s3Store: store },
    );
    expect(json!.summary.exportArn).toBe(f.exportArn);
    expect(json!.grants).toHaveLength(30);
  });

  it('reads the full export among an incremental and an unfinished one in the bucket, as it does locally', async () => {
    // Prepare: a full export, a later incremental one (data in the shared AWSDynamoDB/data/), one still running
    const root = tempDir();
    const full = await writeExportFixture({ dir: root, grants: 30, exportId: '01761958200000-bbbbbbbb' });
    await writeExportFixture({
      dir: root,
      grants: 5,
      seed: 2,
      exportType: 'INCREMENTAL_EXPORT',
      exportId: '01761998400000-cccccccc',
      exportTime: new Date('2026-11-01T12:00:00Z'),
    });
    await writeExportFixture({ dir: root, grants: 5, seed: 3, exportId: '01762000000000-dddddddd', finished: false });
    serve(root, 4);

    // Act
    const { code, json, stderr } = await audit(['report', `s3://${BUCKET}/exports/dt=2026-11-24`, '--as-of', AS_OF], {
      s3Store: store,
    });

    // Assess
    expect(code).not.toBe(2);
    expect(json!.summary).toMatchObject({ exportArn: full.exportArn, grants: 30, itemsRead: full.items });
    expect(json!.findings.filter((x) => x.code === 'MANIFEST_MISMATCH')).toEqual([]);
    expect(stderr).toContain('1 incremental export(s) under s3://breakglass-audit/exports/dt=2026-11-24 were not read');
    expect(stderr).toContain(
      `have no manifest-summary.json (still running, or failed) and were not read: s3://${BUCKET}/exports/dt=2026-11-24/AWSDynamoDB/01762000000000-dddddddd/.`,
    );
  });

  it('exits 2 with one line when the bucket cannot be listed', async () => {
    s3.on(ListObjectsV2Command).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        message: 'Access Denied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const { code, stderr } = await audit(['report', `s3://${BUCKET}/exports/dt=2026-11-24`], { s3Store: store });
    expect(code).toBe(2);
    expect(stderr).toBe(`audit: cannot list s3://${BUCKET}/exports/dt=2026-11-24/: Access Denied\n`);
  });

  it('addresses buckets by path only when an endpoint override (the emulator) is set', () => {
    expect(s3ClientDefaults({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' })).toMatchObject({ forcePathStyle: true });
    expect(s3ClientDefaults({})).not.toHaveProperty('forcePathStyle');
  });
});
