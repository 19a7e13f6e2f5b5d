/**
 * Where an export lies: a local directory or an S3 bucket, seen the same way, as keys under a
 * root. The report reads through this port only, so it never knows which one it reads.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { describeCause, SourceError } from './errors.js';

/** One stored object (a file, or an S3 object). */
export interface StoredObject {
  /** Its key under the store's root, with `/` separators. */
  readonly key: string;
  readonly size: number;
  readonly modified: Date;
}

/** Read access to a tree of objects. */
export interface ObjectStore {
  /** Every object whose key starts with `prefix` (`''`, or a folder ending in `/`), at any depth. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** The object's bytes as a stream. */
  open(key: string): Promise<Readable>;
  /** The object's text, or `undefined` when there is no such object. */
  readText(key: string): Promise<string | undefined>;
  /** How a person names the object: a path, or an `s3://` URI. */
  describe(key: string): string;
}

/** A local directory as an object store; keys are paths relative to it. */
export class LocalObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const start = join(this.root, ...prefix.split('/').filter(Boolean));
    const pending = [start];
    while (pending.length) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // no such folder: nothing under it
        throw new SourceError(`cannot list ${dir}: ${describeCause(error)}`, { cause: error });
      }
      entries.sort((a, b) => (a.name < b.name ? 1 : -1)); // popped in name order
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) pending.push(path);
        else if (entry.isFile()) {
          const info = await stat(path);
          yield {
            key: path
              .slice(this.root.length + 1)
              .split(sep)
              .join('/'),
            size: info.size,
            modified: info.mtime,
          };
        }
      }
    }
  }

  async open(key: string): Promise<Readable> {
    const path = this.path(key);
    // Open eagerly so a missing or unreadable file fails here, with its name, not mid-stream.
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', (error) =>
        fail(new SourceError(`cannot read ${path}: ${describeCause(error)}`, { cause: error })),
      );
    });
    return stream;
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SourceError(`cannot read ${this.path(key)}: ${describeCause(error)}`, { cause: error });
    }
  }

  describe(key: string): string {
    return this.path(key);
  }

  private path(key: string): string {
    return key ? join(this.root, ...key.split('/')) : this.root;
  }
}

/** The store and the key (or folder) a local path names: a directory, or a file in one. */
export async function localLocation(path: string): Promise<{ store: LocalObjectStore; base: string }> {
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch (error) {
    throw new SourceError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : describeCause(error)}`,
      { cause: error },
    );
  }
  if (info.isDirectory()) return { store: new LocalObjectStore(absolute), base: '' };
  return { store: new LocalObjectStore(dirname(absolute)), base: basename(absolute) };
}
