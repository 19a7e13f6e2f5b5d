/**
 * Finding the export to read, and reading it line by line.
 *
 * What DynamoDB writes for ExportTableToPointInTime ("DynamoDB table export output format",
 * Amazon DynamoDB Developer Guide), under `<prefix>/AWSDynamoDB/<ExportId>/`:
 * - `_started`, an empty file written first ("the export has begun"; it may be deleted);
 * - `data/<name>.json.gz`: "at least 1 file per partition", and "for partitions that are empty
 *   ... an empty file"; one `{"Item":{…}}` per line, in DynamoDB JSON;
 * - when the export completes, `manifest-files.json` (JSON Lines: `itemCount`, `md5Checksum`,
 *   `etag`, `dataFileS3Key` per data file) and `manifest-summary.json` (`exportArn`,
 *   `exportTime`, `itemCount`, `outputFormat`, `exportType`, …), each with a checksum file: the
 *   guide names them `manifest-*.checksum`, exports seen in S3 name them `manifest-*.md5`, and
 *   neither says how the digest is written; both names, hex and base64 are accepted.
 * An *incremental* export (`exportType: INCREMENTAL_EXPORT`, `exportFromTime`/`exportToTime`, no
 * `exportTime`) writes its manifests there too, but its data to the shared
 * `<prefix>/AWSDynamoDB/data/` folder, one change a line (`Metadata`, `Keys`, `NewImage`,
 * `OldImage`). The local emulator (moto 5) writes no manifest and no `_started`, only
 * `<prefix>/AWSDynamoDB/<uuid4>/data/<uuid4>.gz`.
 *
 * 1. locate — group what lies under the argument (a prefix, an export folder or a manifest
 *    summary) by export folder, and classify each: a full export, an incremental one, one
 *    unfinished (no summary: still running, or failed), the emulator's (proved by its names);
 * 2. choose — the newest full export by `exportTime`; without one, the newest emulator export;
 *    an incremental or unfinished export alone is refused (exit 2): an incremental export holds
 *    only the items changed in its window, so the ledger and the chains of the grants it does
 *    not touch cannot be judged from it, and an unfinished one may lack any part of the table;
 * 3. manifest — both manifests checked against their checksum files; the data files the file
 *    list names, each checked against the folder's listing; a file missing, unlisted, a total
 *    that disagrees, or a checksum that does not match is a MANIFEST_MISMATCH finding (each data
 *    file's MD5 is checked as it is read, see {@link dataFileLines});
 * 4. no manifest (the emulator) — its one data file, with a warning that counts cannot be
 *    cross-checked.
 */
import { createHash, type Hash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { describeCause, SourceError } from './errors.js';
import { type Finding, finding } from './findings.js';
import { localLocation, type ObjectStore, type StoredObject } from './object-store.js';
import { parseS3Uri, S3ObjectStore } from './s3-object-store.js';

/** One data file to read, with what its manifest promises. */
export interface DataFile {
  readonly key: string;
  readonly expectedItems?: number;
  /**
   * The base64 MD5 of the file's bytes, from `md5Checksum` in manifest-files.json. (Its `etag` is
   * S3's ETag of the upload: for a multipart upload, the MD5 of the parts' MD5s and `-<parts>`;
   * the guide's own example pairs `sQMSpEILNgoQmarvDFonGQ==` with `af83d6f2…-1`, the MD5 of that
   * digest. A copy of the export gets a new ETag, so only the MD5 is checked.)
   */
  readonly md5Checksum?: string;
}

/** The export the report reads. */
export interface ResolvedExport {
  /** The location the report names (a path or an `s3://` URI of the export folder). */
  readonly source: string;
  readonly exportArn?: string;
  readonly exportTime?: string;
  /**
   * When the table was read: the export time, or without a manifest the time the newest data
   * file was written (an export is written minutes after its snapshot, so this errs late).
   */
  readonly snapshotTime?: string;
  readonly tableArn?: string;
  /** Whether a manifest lists the data files (false for the emulator's layout). */
  readonly hasManifest: boolean;
  /** The item count the manifest summary promises. */
  readonly expectedItems?: number;
  readonly dataFiles: readonly DataFile[];
  readonly warnings: readonly string[];
  /** MANIFEST_MISMATCH findings from comparing the manifest with what is stored. */
  readonly findings: readonly Finding[];
}

const SUMMARY = 'manifest-summary.json';
const FILES = 'manifest-files.json';
const DATA_KEY = /(^|\/)data\/[^/]+\.gz$/;
/** What DynamoDB writes beside the data files of an export folder. */
const EXPORT_MARKER = /^(_started|manifest-(summary|files)\.(json|md5|checksum))$/;
/** The folder DynamoDB's incremental exports share for their data: `<prefix>/AWSDynamoDB/data/`. */
const SHARED_FOLDER_NAME = 'AWSDynamoDB';
/** moto names the export folder and its one data file with random UUIDs (`uuid4()`). */
const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const MOTO_FOLDER = new RegExp(`^${UUID4}$`);
const MOTO_DATA_FILE = new RegExp(`^data/${UUID4}\\.gz$`);

/** The store and base key an argument names: `s3://bucket/prefix` or a local path. */
export async function openLocation(
  location: string,
  s3Store: (bucket: string) => ObjectStore = (bucket) => new S3ObjectStore({ bucket }),
): Promise<{ store: ObjectStore; base: string }> {
  if (/^s3:\/\//i.test(location)) {
    const { bucket, key } = parseS3Uri(location);
    return { store: s3Store(bucket), base: key };
  }
  return localLocation(location);
}

/** The folder a key is in, with its trailing `/` (`''` at the root). */
const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);

/**
 * Where a key from the manifest lies in this store. Manifests hold bucket keys
 * (`<prefix>/AWSDynamoDB/<id>/data/x.json.gz`); the export may have been copied elsewhere,
 * so the part after the export's own folder name is taken relative to where the summary is.
 */
export function resolveManifestKey(folder: string, key: string): string {
  const inExport = /(?:^|\/)AWSDynamoDB\/[^/]+\/(.+)$/.exec(key);
  if (inExport) return folder + inExport[1]!;
  if (folder && key.startsWith(folder)) return key;
  const name = key.slice(key.lastIndexOf('/') + 1);
  return key.includes('/data/') || key.startsWith('data/') ? `${folder}data/${name}` : folder + name;
}

async function collect(store: ObjectStore, prefix: string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const object of store.list(prefix)) out.push(object);
  return out;
}

interface Summary {
  readonly key: string;
  /** The summary's text, for its checksum. */
  readonly body: string;
  readonly exportArn?: string;
  readonly exportTime?: string;
  readonly exportFromTime?: string;
  readonly exportToTime?: string;
  /** `FULL_EXPORT` or `INCREMENTAL_EXPORT`; summaries written before incremental exports existed have none (full). */
  readonly exportType: string;
  readonly tableArn?: string;
  readonly itemCount?: number;
  readonly manifestFilesS3Key?: string;
  readonly outputFormat?: string;
}

async function readSummary(store: ObjectStore, key: string): Promise<Summary> {
  const body = await store.readText(key);
  if (body === undefined) throw new SourceError(`${store.describe(key)} does not exist`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  } catch (error) {
    throw new SourceError(`${store.describe(key)} is not a manifest summary (${describeCause(error)})`, {
      cause: error,
    });
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const exportType =
    str(parsed.exportType) ??
    (parsed.exportFromTime !== undefined || parsed.exportToTime !== undefined ? 'INCREMENTAL_EXPORT' : 'FULL_EXPORT');
  return {
    key,
    body,
    exportArn: str(parsed.exportArn),
    exportTime: str(parsed.exportTime),
    exportFromTime: str(parsed.exportFromTime),
    exportToTime: str(parsed.exportToTime),
    exportType,
    tableArn: str(parsed.tableArn),
    itemCount: typeof parsed.itemCount === 'number' ? parsed.itemCount : undefined,
    manifestFilesS3Key: str(parsed.manifestFilesS3Key),
    outputFormat: str(parsed.outputFormat),
  };
}

/**
 * Whether `text` is the MD5 `digest`, written as hex or as base64; `undefined` when it is
 * neither form of an MD5 digest (then nothing can be said).
 */
export function md5Matches(text: string, digest: Buffer): boolean | undefined {
  const value = text.trim();
  if (/^[0-9a-f]{32}$/i.test(value)) return value.toLowerCase() === digest.toString('hex');
  if (/^[A-Za-z0-9+/]{22}==$/.test(value)) return value === digest.toString('base64');
  return undefined;
}

/** The export folder an object belongs to (`''` for the root), or undefined for an object no export writes. */
function exportFolderOf(key: string): string | undefined {
  const folder = folderOf(key);
  if (DATA_KEY.test(key)) return folder.slice(0, -'data/'.length);
  return EXPORT_MARKER.test(key.slice(folder.length)) ? folder : undefined;
}

/** The last segment of a folder's name (the export id), also for the root of a local store. */
function folderName(store: ObjectStore, folder: string): string {
  const named = folder ? folder.slice(0, -1) : store.describe('');
  return (
    named
      .split(/[\\/]+/)
      .filter(Boolean)
      .pop() ?? ''
  );
}

/** One export folder under the location, and what it is. */
interface Candidate {
  readonly kind: 'full' | 'incremental' | 'emulator' | 'unfinished' | 'shared-data';
  readonly folder: string;
  readonly objects: readonly StoredObject[];
  /** The manifest summary (full and incremental exports). */
  readonly summary?: Summary;
}
/** A folder with a manifest summary: a finished export. */
type Finished = Candidate & { readonly summary: Summary };
const finished = (c: Candidate): c is Finished => c.summary !== undefined;

const list = (items: readonly string[], max = 3) =>
  items.slice(0, max).join(', ') + (items.length > max ? ` and ${items.length - max} more` : '');

/** Step 1: every export folder under the location, classified. */
async function classify(store: ObjectStore, base: string): Promise<Candidate[]> {
  const baseName = base.slice(base.lastIndexOf('/') + 1);
  const prefix = baseName === SUMMARY ? folderOf(base) : base === '' || base.endsWith('/') ? base : `${base}/`;
  const folders = new Map<string, StoredObject[]>();
  for (const object of await collect(store, prefix)) {
    const folder = exportFolderOf(object.key);
    if (folder === undefined) continue;
    const objects = folders.get(folder);
    if (objects) objects.push(object);
    else folders.set(folder, [object]);
  }
  const candidates: Candidate[] = [];
  for (const [folder, objects] of folders) {
    const names = objects.map((o) => o.key.slice(folder.length));
    if (names.includes(SUMMARY)) {
      const summary = await readSummary(store, folder + SUMMARY);
      candidates.push({
        kind: summary.exportType === 'FULL_EXPORT' ? 'full' : 'incremental',
        folder,
        objects,
        summary,
      });
    } else if (folderName(store, folder) === SHARED_FOLDER_NAME) {
      candidates.push({ kind: 'shared-data', folder, objects });
    } else if (MOTO_FOLDER.test(folderName(store, folder)) && names.length === 1 && MOTO_DATA_FILE.test(names[0]!)) {
      // Positively the emulator's: a uuid4 folder holding one `data/<uuid4>.gz` and nothing else.
      // DynamoDB's export ids are `<14-digit epoch ms>-<8 hex>` and its data files `<26 chars>.json.gz`.
      candidates.push({ kind: 'emulator', folder, objects });
    } else candidates.push({ kind: 'unfinished', folder, objects });
  }
  return candidates;
}

/** Why an export that cannot be read is refused, in one clause. */
function refusal(store: ObjectStore, candidate: Candidate): string {
  if (finished(candidate)) {
    const s = candidate.summary;
    return s.exportType === 'INCREMENTAL_EXPORT'
      ? `${store.describe(s.key)} describes an incremental export (changes from ${s.exportFromTime ?? '?'} to ${s.exportToTime ?? '?'}); only full exports are read, because an incremental export holds only the items changed in its window, so the ledger and the chains of grants it does not touch cannot be checked. Report on a full export (ExportType FULL_EXPORT) of the table`
      : `${store.describe(s.key)} describes an export of type ${s.exportType}; only full exports (FULL_EXPORT) are read`;
  }
  if (candidate.kind === 'shared-data') {
    return `${store.describe(candidate.folder)}data/ holds incremental export data (${candidate.objects.length} file(s)) whose manifests are not here; only full exports are read`;
  }
  const names = candidate.objects.map((o) => o.key.slice(candidate.folder.length));
  const data = names.filter((n) => n.startsWith('data/')).length;
  const has = [
    ...(names.includes('_started') ? ['_started'] : []),
    ...(data ? [`${data} data file(s)`] : []),
    ...names.filter((n) => n.startsWith('manifest-')),
  ];
  return `the export at ${store.describe(candidate.folder)} is unfinished or failed: it has ${list(has, 4)} but no ${SUMMARY}, which DynamoDB writes last, when the export completes (and it is not the local emulator's layout). Check it with "aws dynamodb describe-export" and report on a completed export`;
}

/** Finds the export under a location and lists what to read (steps 1–4 above). */
export async function resolveExport(store: ObjectStore, base: string): Promise<ResolvedExport> {
  // 1. locate
  const candidates = await classify(store, base);
  const of = (kind: Candidate['kind']) => candidates.filter((c) => c.kind === kind);

  // 2. choose
  const time = (c: Candidate) => Date.parse(c.summary?.exportTime ?? '');
  const full = of('full').sort(
    (a, b) =>
      (Number.isFinite(time(b)) ? time(b) : -Infinity) - (Number.isFinite(time(a)) ? time(a) : -Infinity) ||
      (a.folder < b.folder ? 1 : -1),
  );
  const skipped = (kinds: readonly Candidate['kind'][]): string[] => {
    const out: string[] = [];
    const incremental = candidates.filter((c) => c.kind === 'incremental' && kinds.includes('incremental'));
    if (incremental.length)
      out.push(
        `${incremental.length} incremental export(s) under ${store.describe(base)} were not read (${list(incremental.map((c) => c.summary?.exportArn ?? store.describe(c.folder)))}): only full exports are read.`,
      );
    const unfinished = candidates.filter((c) => c.kind === 'unfinished' && kinds.includes('unfinished'));
    if (unfinished.length)
      out.push(
        `${unfinished.length} export folder(s) under ${store.describe(base)} have no ${SUMMARY} (still running, or failed) and were not read: ${list(unfinished.map((c) => store.describe(c.folder)))}.`,
      );
    const emulator = candidates.filter((c) => c.kind === 'emulator' && kinds.includes('emulator'));
    if (emulator.length)
      out.push(
        `${emulator.length} export folder(s) in the local emulator's layout under ${store.describe(base)} were not read: ${list(emulator.map((c) => store.describe(c.folder)))}.`,
      );
    return out;
  };
  if (full.length) {
    const chosen = full[0]! as Finished;
    const warnings: string[] = [];
    if (full.length > 1) {
      warnings.push(
        `${full.length} exports found under ${store.describe(base)}; reporting on the newest, ${chosen.summary.exportArn ?? store.describe(chosen.folder)} (exported ${chosen.summary.exportTime ?? 'at an unknown time'}).`,
      );
    }
    warnings.push(...skipped(['incremental', 'unfinished', 'emulator']));
    return readManifestExport(store, chosen, warnings);
  }
  // The shared data folder is named on its own only when no incremental manifest explains it.
  const refused = [
    ...of('unfinished'),
    ...of('incremental'),
    ...(of('emulator').length || of('incremental').length ? [] : of('shared-data')),
  ];
  if (refused.length) {
    throw new SourceError(
      refused.length === 1
        ? refusal(store, refused[0]!)
        : `no completed full export under ${store.describe(base)}: ${refused.map((c) => refusal(store, c)).join('; ')}`,
    );
  }
  const emulator = of('emulator');
  if (emulator.length === 0) {
    throw new SourceError(`no DynamoDB export under ${store.describe(base)}: no ${SUMMARY} and no data/*.gz files`);
  }

  // 4. no manifest: the emulator's
  const modified = (c: Candidate) => Math.max(...c.objects.map((o) => o.modified.getTime()));
  const chosen = emulator.sort((a, b) => modified(b) - modified(a) || (a.folder < b.folder ? 1 : -1))[0]!;
  const warnings: string[] = [];
  if (emulator.length > 1)
    warnings.push(
      `${emulator.length} exports found under ${store.describe(base)}; reporting on the most recently written, ${store.describe(chosen.folder)}.`,
    );
  warnings.push(...skipped(['incremental']));
  warnings.push(
    `The export at ${store.describe(chosen.folder)} is in the local emulator's layout and has no manifest: item counts and checksums cannot be cross-checked, a deleted data file would go unnoticed, and grants still open are judged at the time the data file was written.`,
  );
  return {
    source: store.describe(chosen.folder),
    ...(modified(chosen) > 0 ? { snapshotTime: new Date(modified(chosen)).toISOString() } : {}),
    hasManifest: false,
    dataFiles: chosen.objects.map((o) => ({ key: o.key })),
    warnings,
    findings: [],
  };
}

/** Checks a manifest against its checksum file (`<name>.md5` as exports have it, or `<name>.checksum` as the guide names it). */
async function checkManifest(
  store: ObjectStore,
  key: string,
  body: string,
  present: ReadonlySet<string>,
  findings: Finding[],
  warnings: string[],
): Promise<void> {
  const stem = key.replace(/\.json$/, '');
  const checksumKey = [`${stem}.md5`, `${stem}.checksum`].find((k) => present.has(k));
  if (!checksumKey) {
    warnings.push(
      `${store.describe(key)} has no checksum file beside it (${stem.slice(stem.lastIndexOf('/') + 1)}.md5 or .checksum): it was not verified against one.`,
    );
    return;
  }
  const expected = (await store.readText(checksumKey)) ?? '';
  const matches = md5Matches(expected, createHash('md5').update(body, 'utf8').digest());
  if (matches === undefined) {
    warnings.push(
      `${store.describe(checksumKey)} does not hold an MD5 digest (hex or base64): ${store.describe(key)} was not verified against it.`,
    );
  } else if (!matches) {
    findings.push(
      finding('MANIFEST_MISMATCH', {
        file: store.describe(key),
        message: `${store.describe(key)} does not match its checksum in ${store.describe(checksumKey)}: the manifest was altered after the export. Compare both with their copies in the versioned bucket.`,
      }),
    );
  }
}

/** Step 3: a finished full export, through its manifests. */
async function readManifestExport(store: ObjectStore, chosen: Finished, warnings: string[]): Promise<ResolvedExport> {
  const { summary, folder } = chosen;
  const findings: Finding[] = [];
  if (summary.outputFormat && summary.outputFormat !== 'DYNAMODB_JSON') {
    throw new SourceError(
      `${store.describe(summary.key)} describes an ${summary.outputFormat} export; only DYNAMODB_JSON exports can be read`,
    );
  }
  const present = new Set(chosen.objects.map((o) => o.key));
  await checkManifest(store, summary.key, summary.body, present, findings, warnings);

  const stored = new Map(chosen.objects.filter((o) => DATA_KEY.test(o.key)).map((o) => [o.key, o]));
  const filesKey = resolveManifestKey(folder, summary.manifestFilesS3Key ?? `${folder}${FILES}`);
  const filesBody = await store.readText(filesKey);
  const dataFiles: DataFile[] = [];
  if (filesBody === undefined) {
    findings.push(
      finding('MANIFEST_MISMATCH', {
        file: store.describe(filesKey),
        message: `The export's file list ${store.describe(filesKey)} is missing, so no data file can be checked against it. Every data file in the folder was read; compare the export with its copy in the versioned bucket.`,
      }),
    );
    for (const key of [...stored.keys()].sort()) dataFiles.push({ key });
  } else {
    await checkManifest(store, filesKey, filesBody, present, findings, warnings);
    const listed = new Set<string>();
    let promised = 0;
    let withoutChecksum = 0;
    filesBody.split('\n').forEach((line, index) => {
      if (!line.trim()) return;
      let entry: { itemCount?: unknown; dataFileS3Key?: unknown; md5Checksum?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        findings.push(
          finding('MANIFEST_MISMATCH', {
            file: store.describe(filesKey),
            message: `Line ${index + 1} of ${store.describe(filesKey)} is not valid JSON: the file list was altered. Compare it with its copy in the versioned bucket.`,
          }),
        );
        return;
      }
      if (typeof entry.dataFileS3Key !== 'string') return;
      const key = resolveManifestKey(folder, entry.dataFileS3Key);
      const expectedItems = typeof entry.itemCount === 'number' ? entry.itemCount : undefined;
      const md5Checksum = typeof entry.md5Checksum === 'string' ? entry.md5Checksum : undefined;
      if (md5Checksum === undefined) withoutChecksum++;
      promised += expectedItems ?? 0;
      listed.add(key);
      if (!stored.has(key)) {
        findings.push(
          finding('MANIFEST_MISMATCH', {
            file: store.describe(key),
            ...(expectedItems !== undefined ? { count: expectedItems } : {}),
            message: `Data file ${store.describe(key)} is listed in the manifest (${expectedItems ?? '?'} items) but missing: its items are not in this report. Restore it from the versioned bucket and find who deleted it.`,
          }),
        );
        return;
      }
      dataFiles.push({
        key,
        ...(expectedItems !== undefined ? { expectedItems } : {}),
        ...(md5Checksum !== undefined ? { md5Checksum } : {}),
      });
    });
    for (const key of stored.keys()) {
      if (!listed.has(key)) {
        findings.push(
          finding('MANIFEST_MISMATCH', {
            file: store.describe(key),
            message: `Data file ${store.describe(key)} is not in the manifest: it was added after the export and was not read. Find out who wrote it.`,
          }),
        );
      }
    }
    if (summary.itemCount !== undefined && promised !== summary.itemCount) {
      findings.push(
        finding('MANIFEST_MISMATCH', {
          file: store.describe(filesKey),
          count: promised,
          message: `The file list promises ${promised} items but the summary ${summary.itemCount}: one of the manifests was altered. Compare both with their copies in the versioned bucket.`,
        }),
      );
    }
    if (withoutChecksum)
      warnings.push(
        `${withoutChecksum} data file(s) have no md5Checksum in ${store.describe(filesKey)}: their bytes were not verified.`,
      );
  }
  return {
    source: store.describe(folder),
    ...(summary.exportArn ? { exportArn: summary.exportArn } : {}),
    ...(summary.exportTime ? { exportTime: summary.exportTime, snapshotTime: summary.exportTime } : {}),
    ...(summary.tableArn ? { tableArn: summary.tableArn } : {}),
    hasManifest: true,
    ...(summary.itemCount !== undefined ? { expectedItems: summary.itemCount } : {}),
    dataFiles,
    warnings,
    findings,
  };
}

/** What reading a data file measured: its size and the MD5 of its bytes (set once it has been read to the end). */
export interface FileTally {
  bytes: number;
  md5?: Buffer;
}

/**
 * The lines of one gzipped data file, decompressed and split as they stream in; the raw bytes
 * are counted and hashed on the way into `tally`. A 0-byte file is read as no lines: DynamoDB
 * writes "an empty file" for an empty partition, and the manifest's item count and MD5 say
 * whether that is what it should be.
 */
export async function* dataFileLines(
  store: ObjectStore,
  key: string,
  tally: FileTally = { bytes: 0 },
): AsyncIterable<string> {
  const source: Readable = await store.open(key);
  const hash: Hash = createHash('md5');
  tally.bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      tally.bytes += chunk.length;
      done(null, chunk);
    },
  });
  const gunzip = createGunzip();
  // pipeline destroys the gunzip stream on a source error, and readline rethrows it.
  pipeline(source, tap, gunzip, () => undefined);
  const lines = createInterface({ input: gunzip, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } catch (error) {
    // gunzip fails on no input at all ("unexpected end of file"): that is an empty file, not a broken one.
    if (!(tally.bytes === 0 && source.readableEnded))
      throw new SourceError(`cannot read ${store.describe(key)}: ${describeCause(error)}`, { cause: error });
  } finally {
    lines.close();
    source.destroy();
  }
  tally.md5 = hash.digest();
}
