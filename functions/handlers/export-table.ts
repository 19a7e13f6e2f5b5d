/** Daily (EventBridge rule): export the table to the audit bucket under `exports/dt=<day>/`; fail if yesterday's export failed. */
import type { Context } from 'aws-lambda';
import { exportAuditTrail } from '../domain/export-audit.js';
import { jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import { clock, exporter } from './wiring.js';

const ports = { exporter: exporter(), clock, log };

type Result = Awaited<ReturnType<typeof exportAuditTrail>>;

export const lambdaHandler = async (_event?: unknown, _context?: Context): Promise<Result> => exportAuditTrail(ports);

export const handler = jobHandler('export-table', lambdaHandler);
