/**
 * The daily export of the table for auditors: a full point-in-time export (DynamoDB JSON) into
 * the audit bucket under `exports/dt=<UTC day>/`, the layout the Glue table partitions on.
 * Idempotent per day: a retried run asks for the same export (same client token).
 */
import type { Clock, Ports } from './ports.js';

export const EXPORT_PREFIX = 'exports';

export interface TableExporter {
  /** Starts an export of the whole table as of now into `prefix`; returns its ARN. */
  start(request: { prefix: string; clientToken: string }): Promise<{ exportArn: string }>;
}

export async function exportAuditTrail(ports: { exporter: TableExporter; clock: Clock; log: Ports['log'] }): Promise<{ exportArn: string; prefix: string }> {
  const at = ports.clock.now();
  const day = at.toISOString().slice(0, 10);
  const prefix = `${EXPORT_PREFIX}/dt=${day}`;
  const { exportArn } = await ports.exporter.start({ prefix, clientToken: `breakglass-daily-${day}` });
  ports.log.info({ msg: 'export started', exportArn, prefix });
  return { exportArn, prefix };
}
