import { describe, expect, it } from 'vitest';
import {
  ExportFailedError,
  type ExportStatus,
  exportAuditTrail,
  type TableExporter,
} from '../../../functions/domain/export-audit.js';

const now = new Date('2026-11-24T02:00:00.000Z');
const log = { info: () => {}, warn: () => {}, error: () => {} };

function exporter(previous: ExportStatus[]): TableExporter & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    start: async ({ prefix }) => {
      started.push(prefix);
      return { exportArn: `arn:export/${prefix}` };
    },
    recent: async () => [
      ...previous,
      ...started.map((prefix) => ({ exportArn: `arn:export/${prefix}`, prefix, status: 'IN_PROGRESS' })),
    ],
  };
}
const day = (d: string, status: string, failure?: string): ExportStatus => ({
  exportArn: `arn:export/${d}`,
  prefix: `exports/dt=${d}`,
  status,
  ...(failure ? { failure } : {}),
});

describe('exportAuditTrail', () => {
  it("starts today's export under exports/dt=<day> and passes when yesterday's completed", async () => {
    const e = exporter([day('2026-11-22', 'COMPLETED'), day('2026-11-23', 'COMPLETED')]);
    await expect(exportAuditTrail({ exporter: e, clock: { now: () => now }, log })).resolves.toMatchObject({
      prefix: 'exports/dt=2026-11-24',
      previous: { status: 'COMPLETED' },
    });
  });

  it("fails, after starting today's, when yesterday's export FAILED", async () => {
    const e = exporter([day('2026-11-23', 'FAILED', 'S3NoSuchBucket')]);
    await expect(exportAuditTrail({ exporter: e, clock: { now: () => now }, log })).rejects.toThrow(ExportFailedError);
    expect(e.started).toEqual(['exports/dt=2026-11-24']);
  });

  it('fails when yesterday has no export although earlier days do, and not on the very first run', async () => {
    await expect(
      exportAuditTrail({ exporter: exporter([day('2026-11-21', 'COMPLETED')]), clock: { now: () => now }, log }),
    ).rejects.toThrow(/No export of exports\/dt=2026-11-23/);
    await expect(exportAuditTrail({ exporter: exporter([]), clock: { now: () => now }, log })).resolves.toMatchObject({
      prefix: 'exports/dt=2026-11-24',
    });
  });

  it("only warns while yesterday's export is still running", async () => {
    const warnings: unknown[] = [];
    await exportAuditTrail({
      exporter: exporter([day('2026-11-23', 'IN_PROGRESS')]),
      clock: { now: () => now },
      log: { ...log, warn: (w: unknown) => warnings.push(w) },
    });
    expect(warnings).toHaveLength(1);
  });
});
