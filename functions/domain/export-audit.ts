/**
 * The daily export of the table for auditors: a full point-in-time export (DynamoDB JSON) into
 * the audit bucket under `exports/dt=<UTC day>/`, the layout the Glue table partitions on.
 *
 * 1. start — today's export; idempotent per day (a retried run asks for the same export: same client token);
 * 2. check — the previous day's export: an export runs for minutes after the function returns, so
 *    its failure can only be seen a run later. A FAILED one, or none at all when earlier days have
 *    one, fails this run (its error alarm tells someone) after today's export has been started.
 */
import { ExportFailedError } from './errors.js';
import type { Clock, ExportStatus, Ports, TableExporter } from './ports.js';

export type { ExportStatus, TableExporter } from './ports.js';
export { ExportFailedError };

export const EXPORT_PREFIX = 'exports';

export const exportPrefixFor = (day: Date) => `${EXPORT_PREFIX}/dt=${day.toISOString().slice(0, 10)}`;

export async function exportAuditTrail(ports: {
  exporter: TableExporter;
  clock: Clock;
  log: Ports['log'];
}): Promise<{ exportArn: string; prefix: string; previous?: ExportStatus }> {
  // 1. start
  const now = ports.clock.now();
  const prefix = exportPrefixFor(now);
  const { exportArn } = await ports.exporter.start({ prefix, clientToken: `breakglass-daily-${prefix.slice(-10)}` });
  ports.log.info({ msg: 'export started', exportArn, prefix });

  // 2. check
  const yesterday = exportPrefixFor(new Date(now.getTime() - 86_400_000));
  const recent = await ports.exporter.recent();
  const previous = recent.filter((e) => e.prefix === yesterday);
  const older = recent.some((e) => e.prefix < yesterday && e.prefix.startsWith(`${EXPORT_PREFIX}/dt=`));
  if (!previous.length && older) {
    throw new ExportFailedError(
      `No export of ${yesterday} exists although earlier days have one: yesterday's run did not happen or did not start. Today's export ${exportArn} was started; re-run yesterday's by hand if the gap matters.`,
    );
  }
  if (previous.length && previous.every((e) => e.status === 'FAILED')) {
    const failed = previous[0]!;
    throw new ExportFailedError(
      `The export of ${yesterday} (${failed.exportArn}) FAILED: ${failed.failure ?? 'no reason given'}. Today's export ${exportArn} was started; re-run yesterday's by hand if the gap matters.`,
    );
  }
  if (previous.length && !previous.some((e) => e.status === 'COMPLETED'))
    ports.log.warn({
      msg: "yesterday's export is still running",
      prefix: yesterday,
      exports: previous.map((e) => e.exportArn),
    });
  return { exportArn, prefix, ...(previous[0] ? { previous: previous[0] } : {}) };
}
