/**
 * Finding the export to read, and reading it line by line.
 *
 * The layout DynamoDB writes for ExportTableToPointInTime (DYNAMODB_JSON), under
 * `<prefix>/AWSDynamoDB/<exportId>/`: `manifest-summary.json` (one JSON object),
 * `manifest-files.json` (JSON Lines, one object per data file with its `itemCount` and
 * `dataFileS3Key`) and gzipped data files `data/*.json.gz`, one `{"Item":{…}}` per line.
 * The local emulator (moto) writes no manifest, only `<prefix>/AWSDynamoDB/<uuid>/data/<uuid>.gz`.
 *
 * 1. locate — the argument may name the prefix, the `AWSDynamoDB/<exportId>/` folder or the
 *    manifest summary; with several exports under it, the newest is read (and the report says so);
 * 2. manifest — the data files it lists, each checked against the folder's listing; a file
 *    missing, unlisted, or a total that disagrees is a MANIFEST_MISMATCH finding;
 * 3. no manifest — every `data/*.gz` of the newest folder, with a warning that counts cannot be
 *    cross-checked.
 */
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { describeCause, SourceError } from './errors.js';
import { finding, type Finding } from './findings.js';
import { localLocation, type ObjectStore, type StoredObject } from './object-store.js';
import { parseS3Uri, S3ObjectStore } from './s3-object-store.js';

/** One data file to read, with the item count its manifest promises. */
export interface DataFile {
  readonly key: string;
  readonly expectedItems?: number;
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
const SUMMARY_KEY = /(^|\/)manifest-summary\.json$/;
const DATA_KEY = /(^|\/)data\/[^/]+\.gz$/;

/** The store and base key an argument names: `s3://bucket/prefix` or a local path. */
export async function openLocation(location: string, s3Store: (bucket: string) => ObjectStore = (bucket) => new S3ObjectStore({ bucket })): Promise<{ store: ObjectStore; base: string }> {
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
  readonly exportArn?: string;
  readonly exportTime?: string;
  readonly tableArn?: string;
  readonly itemCount?: number;
  readonly manifestFilesS3Key?: string;
  readonly outputFormat?: string;
  readonly time: number;
}

async function readSummary(store: ObjectStore, key: string): Promise<Summary> {
  const body = await store.readText(key);
  if (body === undefined) throw new SourceError(`${store.describe(key)} does not exist`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  } catch (error) {
    throw new SourceError(`${store.describe(key)} is not a manifest summary (${describeCause(error)})`, { cause: error });
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const when = [parsed.exportTime, parsed.endTime, parsed.startTime].map((v) => (typeof v === 'string' ? Date.parse(v) : NaN)).find(Number.isFinite) ?? 0;
  return {
    key,
    exportArn: str(parsed.exportArn),
    exportTime: str(parsed.exportTime),
    tableArn: str(parsed.tableArn),
    itemCount: typeof parsed.itemCount === 'number' ? parsed.itemCount : undefined,
    manifestFilesS3Key: str(parsed.manifestFilesS3Key),
    outputFormat: str(parsed.outputFormat),
    time: when,
  };
}

/** Finds the export under a location and lists what to read (steps 1–3 above). */
export async function resolveExport(store: ObjectStore, base: string): Promise<ResolvedExport> {
  const warnings: string[] = [];
  const findings: Finding[] = [];

  // 1. locate
  let summaryKeys: string[];
  let listing: StoredObject[];
  const baseName = base.slice(base.lastIndexOf('/') + 1);
  if (baseName === SUMMARY) {
    summaryKeys = [base];
    listing = await collect(store, `${folderOf(base)}data/`);
  } else {
    const prefix = base === '' || base.endsWith('/') ? base : `${base}/`;
    listing = await collect(store, prefix);
    summaryKeys = listing.filter((o) => SUMMARY_KEY.test(o.key)).map((o) => o.key);
  }

  if (summaryKeys.length > 0) {
    const summaries = await Promise.all(summaryKeys.map((key) => readSummary(store, key)));
    summaries.sort((a, b) => b.time - a.time || (a.key < b.key ? 1 : -1));
    const chosen = summaries[0]!;
    const folder = folderOf(chosen.key);
    if (summaries.length > 1) {
      warnings.push(`${summaries.length} exports found under ${store.describe(base)}; reporting on the newest, ${chosen.exportArn ?? store.describe(folder)} (exported ${chosen.exportTime ?? 'at an unknown time'}).`);
    }
    if (chosen.outputFormat && chosen.outputFormat !== 'DYNAMODB_JSON') {
      throw new SourceError(`${store.describe(chosen.key)} describes an ${chosen.outputFormat} export; only DYNAMODB_JSON exports can be read`);
    }

    // 2. manifest
    const stored = new Map(listing.filter((o) => o.key.startsWith(`${folder}data/`) && DATA_KEY.test(o.key)).map((o) => [o.key, o]));
    const filesKey = resolveManifestKey(folder, chosen.manifestFilesS3Key ?? `${folder}manifest-files.json`);
    const filesBody = await store.readText(filesKey);
    const dataFiles: DataFile[] = [];
    if (filesBody === undefined) {
      findings.push(finding('MANIFEST_MISMATCH', { file: store.describe(filesKey), message: `The export's file list ${store.describe(filesKey)} is missing, so no data file can be checked against it. Every data file in the folder was read; compare the export with its copy in the versioned bucket.` }));
      for (const key of stored.keys()) dataFiles.push({ key });
    } else {
      const listed = new Set<string>();
      let promised = 0;
      filesBody.split('\n').forEach((line, index) => {
        if (!line.trim()) return;
        let entry: { itemCount?: unknown; dataFileS3Key?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          findings.push(finding('MANIFEST_MISMATCH', { file: store.describe(filesKey), message: `Line ${index + 1} of ${store.describe(filesKey)} is not valid JSON: the file list was altered. Compare it with its copy in the versioned bucket.` }));
          return;
        }
        if (typeof entry.dataFileS3Key !== 'string') return;
        const key = resolveManifestKey(folder, entry.dataFileS3Key);
        const expectedItems = typeof entry.itemCount === 'number' ? entry.itemCount : undefined;
        promised += expectedItems ?? 0;
        listed.add(key);
        if (!stored.has(key)) {
          findings.push(finding('MANIFEST_MISMATCH', { file: store.describe(key), ...(expectedItems !== undefined ? { count: expectedItems } : {}), message: `Data file ${store.describe(key)} is listed in the manifest (${expectedItems ?? '?'} items) but missing: its items are not in this report. Restore it from the versioned bucket and find who deleted it.` }));
          return;
        }
        dataFiles.push({ key, ...(expectedItems !== undefined ? { expectedItems } : {}) });
      });
      for (const key of stored.keys()) {
        if (!listed.has(key)) {
          findings.push(finding('MANIFEST_MISMATCH', { file: store.describe(key), message: `Data file ${store.describe(key)} is not in the manifest: it was added after the export and was not read. Find out who wrote it.` }));
        }
      }
      if (chosen.itemCount !== undefined && promised !== chosen.itemCount) {
        findings.push(finding('MANIFEST_MISMATCH', { file: store.describe(filesKey), count: promised, message: `The file list promises ${promised} items but the summary ${chosen.itemCount}: one of the manifests was altered. Compare both with their copies in the versioned bucket.` }));
      }
    }
    return {
      source: store.describe(folder),
      ...(chosen.exportArn ? { exportArn: chosen.exportArn } : {}),
      ...(chosen.exportTime ? { exportTime: chosen.exportTime, snapshotTime: chosen.exportTime } : {}),
      ...(chosen.tableArn ? { tableArn: chosen.tableArn } : {}),
      hasManifest: true,
      ...(chosen.itemCount !== undefined ? { expectedItems: chosen.itemCount } : {}),
      dataFiles,
      warnings,
      findings,
    };
  }

  // 3. no manifest
  const data = listing.filter((o) => DATA_KEY.test(o.key));
  if (data.length === 0) {
    throw new SourceError(`no DynamoDB export under ${store.describe(base)}: no ${SUMMARY} and no data/*.gz files`);
  }
  const folders = new Map<string, StoredObject[]>();
  for (const object of data) {
    const folder = object.key.slice(0, object.key.lastIndexOf('data/'));
    folders.set(folder, [...(folders.get(folder) ?? []), object]);
  }
  const newest = (objects: StoredObject[]) => Math.max(...objects.map((o) => o.modified.getTime()));
  const [folder, files] = [...folders.entries()].sort((a, b) => newest(b[1]) - newest(a[1]) || (a[0] < b[0] ? 1 : -1))[0]!;
  if (folders.size > 1) warnings.push(`${folders.size} exports found under ${store.describe(base)}; reporting on the most recently written, ${store.describe(folder)}.`);
  warnings.push(`The export at ${store.describe(folder)} has no manifest (the local emulator writes none): item counts cannot be cross-checked, a deleted data file would go unnoticed, and grants still open are judged at the time the data file was written.`);
  return {
    source: store.describe(folder),
    ...(newest(files) > 0 ? { snapshotTime: new Date(newest(files)).toISOString() } : {}),
    hasManifest: false,
    dataFiles: files.map((o) => ({ key: o.key })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    warnings,
    findings,
  };
}

/** The lines of one gzipped data file, decompressed and split as they stream in. */
export async function* dataFileLines(store: ObjectStore, key: string): AsyncIterable<string> {
  const source: Readable = await store.open(key);
  const gunzip = createGunzip();
  // pipeline destroys the gunzip stream on a source error, and readline rethrows it.
  pipeline(source, gunzip, () => undefined);
  const lines = createInterface({ input: gunzip, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } catch (error) {
    throw new SourceError(`cannot read ${store.describe(key)}: ${describeCause(error)}`, { cause: error });
  } finally {
    lines.close();
    source.destroy();
  }
}
