/**
 * An S3 bucket as an {@link ObjectStore}: ListObjectsV2 for listings, GetObject streams for
 * reading. The client honours the environment like any SDK client (`AWS_REGION`, credentials,
 * `AWS_ENDPOINT_URL`); against an endpoint override (the local emulator) it addresses the
 * bucket by path, since an emulator has no per-bucket DNS names.
 */

import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, paginateListObjectsV2, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { describeCause, SourceError } from './errors.js';
import type { ObjectStore, StoredObject } from './object-store.js';

/** The bucket, and the client (a real one by default) to read it with. */
export interface S3ObjectStoreOptions {
  readonly bucket: string;
  readonly awsSdkV3Client?: S3Client;
  readonly clientConfig?: S3ClientConfig;
}

/** Client settings for a command-line read of an export (one long stream per data file). */
export function s3ClientDefaults(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  return {
    ...(env.AWS_ENDPOINT_URL ? { forcePathStyle: true } : {}),
    // The socket may idle only this long; a hung connection fails instead of hanging the report.
    requestHandler: { requestTimeout: 60_000, connectionTimeout: 5_000 },
  };
}

/** Read access to one bucket; keys are object keys. */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.client = options.awsSdkV3Client ?? new S3Client({ ...s3ClientDefaults(), ...options.clientConfig });
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, ...(prefix ? { Prefix: prefix } : {}) },
      )) {
        for (const object of page.Contents ?? []) {
          if (!object.Key || object.Key.endsWith('/')) continue; // folder markers
          yield { key: object.Key, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
        }
      }
    } catch (error) {
      throw new SourceError(`cannot list ${this.describe(prefix)}: ${describeCause(error)}`, { cause: error });
    }
  }

  async open(key: string): Promise<Readable> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!Body) throw new Error('the object has no body');
      if (Body instanceof Readable) return Body;
      const web = (Body as { transformToWebStream?: () => ReadableStream }).transformToWebStream?.();
      if (!web) throw new Error('the object body is not a stream');
      return Readable.fromWeb(web as Parameters<typeof Readable.fromWeb>[0]);
    } catch (error) {
      throw new SourceError(`cannot read ${this.describe(key)}: ${describeCause(error)}`, { cause: error });
    }
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Body ? await Body.transformToString('utf8') : '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: unknown }).name === 'NoSuchKey') return undefined;
      throw new SourceError(`cannot read ${this.describe(key)}: ${describeCause(error)}`, { cause: error });
    }
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

/** Splits `s3://bucket/prefix` into its bucket and key prefix. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1]!)) {
    throw new SourceError(`${uri} is not an S3 location; expected s3://<bucket>/<prefix>`);
  }
  return { bucket: match[1]!, key: match[2]! };
}
