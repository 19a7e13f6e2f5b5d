/**
 * The failures the audit command reports as "bad usage or unreadable source" (exit 2): a
 * one-line message, never a stack trace.
 */

/** The command line is wrong: an unknown option, a missing argument, a value out of range. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The export cannot be found or read (no such directory or bucket, access denied, corrupt gzip). */
export class SourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
  }
}

/** `Name: message` of an SDK or system error, on one line. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const text = `${typeof code === 'string' && !error.message.includes(code) ? `${code}: ` : ''}${error.message || error.name}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
