/**
 * Lines spread over K temporary files, and read back one file at a time: how the report sorts
 * an export bigger than memory. Writes are buffered per file and appended in chunks, so no file
 * stays open (K may exceed the open-file limit) and the buffers together stay under a budget.
 */

import { createReadStream, existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A chunk is appended once a file's buffer reaches this size. */
const CHUNK_BYTES = 64 * 1024;
/** All buffers together; past it, every buffer is flushed. */
const BUDGET_BYTES = 4 * 1024 * 1024;

/** K temporary JSON Lines files under one directory, written through per-file buffers. */
export class PartitionedFile {
  private readonly buffers: string[][];
  private readonly sizes: number[];
  private buffered = 0;
  private readonly written: boolean[];

  constructor(
    private readonly dir: string,
    private readonly name: string,
    readonly partitions: number,
  ) {
    this.buffers = Array.from({ length: partitions }, () => []);
    this.sizes = new Array<number>(partitions).fill(0);
    this.written = new Array<boolean>(partitions).fill(false);
  }

  /** Where partition `index` lies on disk. */
  path(index: number): string {
    return join(this.dir, `${this.name}-${String(index).padStart(4, '0')}.jsonl`);
  }

  /** Adds one line (no newline in it) to a partition; resolves once buffers are within budget. */
  async add(index: number, line: string): Promise<void> {
    this.buffers[index]!.push(line);
    // UTF-16 length is a good enough measure of bytes for a budget.
    this.sizes[index]! += line.length + 1;
    this.buffered += line.length + 1;
    if (this.sizes[index]! >= CHUNK_BYTES) await this.flushOne(index);
    else if (this.buffered >= BUDGET_BYTES) await this.flush();
  }

  /** Writes out every buffer. */
  async flush(): Promise<void> {
    for (let i = 0; i < this.partitions; i++) if (this.sizes[i]! > 0) await this.flushOne(i);
  }

  private async flushOne(index: number): Promise<void> {
    const lines = this.buffers[index]!;
    this.buffers[index] = [];
    this.buffered -= this.sizes[index]!;
    this.sizes[index] = 0;
    this.written[index] = true;
    await appendFile(this.path(index), `${lines.join('\n')}\n`);
  }

  /** The lines of one partition, in the order they were added (call after {@link flush}). */
  async *read(index: number): AsyncIterable<string> {
    if (!this.written[index] || !existsSync(this.path(index))) return;
    const input = createReadStream(this.path(index), { highWaterMark: 1 << 20 });
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield line;
    } finally {
      input.destroy(); // also when the reader stops early
    }
  }
}

/** FNV-1a, 32 bits: a fast, stable spread of grant ids over partitions. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
