/**
 * The auditors' path end to end against the emulator: a real lifecycle (activate, expire,
 * revoke, deny, review), the table exported by ExportTableToPointInTime into the emulator's
 * S3, and `npm run audit -- report s3://…` run as a process over it. The report's figures must
 * match what happened; an event rewritten in the table must show in the next export's report.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExportCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DynamoTableExporter } from '../../../functions/adapters/dynamodb-export.adapter.js';
import { ENV } from '../../../functions/config/env.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import { apiEvent, parse, sessionOf, setUpWorld, type TestWorld } from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let create: Api, revoke: Api, review: Api;
let expire: (event: { grantId?: unknown }, context: Context) => Promise<{ outcome: string }>;
const ctx = {} as Context;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler;
  review = (await import('../../../functions/handlers/review-grant.js')).handler;
  expire = (await import('../../../functions/handlers/expire-grant.js')).handler;
});
afterEach(() => vi.useRealTimers());

async function exportTo(prefix: string): Promise<string> {
  const exporter = new DynamoTableExporter({
    tableArn: world.tableArn,
    bucket: world.auditBucket,
    clientConfig: emulatorConfig(world.endpoint),
  });
  const { exportArn } = await exporter.start({ prefix, clientToken: prefix.replace(/[^A-Za-z0-9-]/g, '-') });
  // Polled until it ends, however long the emulator takes (the test's hang guard bounds it).
  for (;;) {
    const status = (await world.ddb.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription!
      .ExportStatus;
    if (status === 'COMPLETED') return `s3://${world.auditBucket}/${prefix}`;
    if (status === 'FAILED') throw new Error(`export ${exportArn} failed`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Report {
  summary: Record<string, unknown>;
  findings: Array<{
    code: string;
    severity: string;
    grantId?: string;
    principal?: string;
    seq?: number;
    message?: string;
  }>;
  grants: Array<{
    id: string;
    status: string;
    requester: string;
    reason: string;
    lateSeconds: number | null;
    review: string;
    reviewedBy: string;
    chain: string;
    events: number;
    sequence: number | null;
  }>;
}

function report(source: string, asOf: Date): Promise<{ code: number; stderr: string; report: Report | undefined }> {
  const out = mkdtempSync(join(tmpdir(), 'bg-report-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        'audit/main.ts',
        'report',
        source,
        '--out',
        out,
        '--as-of',
        asOf.toISOString(),
        '--profiles',
        process.env[ENV.profilesFile]!,
      ],
      {
        env: { ...process.env, AWS_ENDPOINT_URL: world.endpoint, NODE_NO_WARNINGS: '1' },
        timeout: 10 * 60_000, // a hang guard for the child process, not a speed check
      },
      (error, _stdout, stderr) => {
        let parsed: Report | undefined;
        try {
          parsed = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
        } catch {
          parsed = undefined;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr, report: parsed });
      },
    );
  });
}

describe('lifecycle → export → report against the emulator', () => {
  it('reports what happened, grant by grant, with the findings measured against policy; a rewritten event shows', async () => {
    // Prepare: a lifecycle
    const alice = await sessionOf(world, world.responderRole, 'alice');
    const bob = await sessionOf(world, world.responderRole, 'bob');
    const intern = await sessionOf(world, `Intern-${world.suffix}`, 'ivan');
    const sam = await sessionOf(world, world.securityRole, 'sam');
    const activate = async (identity: typeof alice, body: Record<string, unknown>) =>
      create(
        apiEvent({ identity, body: { profile: 'demo', reason: 'search cluster is red, need its logs', ...body } }),
        ctx,
      );

    const expired = parse(await activate(alice, { durationMinutes: 1 })).grant;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.parse(expired.expiresAt) + 2_000)); // the schedule fired two seconds late
    expect((await expire({ grantId: expired.id }, ctx)).outcome).toBe('expired');
    vi.useRealTimers();
    const revoked = parse(await activate(bob, { durationMinutes: 30 })).grant;
    expect(
      (
        await revoke(
          apiEvent({ identity: bob, pathParameters: { id: revoked.id }, body: { reason: 'search is green again' } }),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
    const denied = await activate(intern, { durationMinutes: 5 });
    expect(denied.statusCode).toBe(403);
    const deniedId = /grant ([0-9a-f-]{36})/i.exec(JSON.stringify(parse(denied)))?.[1];
    // A review waits SETTLE_MINUTES after the grant's end for CloudTrail's late deliveries.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.parse(expired.expiresAt) + SETTLE_MINUTES * 60_000 + 5_000));
    expect(
      (
        await review(
          apiEvent({
            identity: sam,
            pathParameters: { id: expired.id },
            body: { outcome: 'justified', notes: 'logs were read, nothing else touched' },
          }),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
    vi.useRealTimers();

    // Act: export, then the report as an auditor runs it, four days later
    const source = await exportTo(`exports/dt=${world.suffix}-1`);
    const asOf = new Date(Date.now() + 4 * 86_400_000);
    const first = await report(source, asOf);

    // Assess: figures per grant
    expect(first.report, first.stderr).toBeDefined();
    const rows = new Map(first.report!.grants.map((g) => [g.id, g]));
    expect(rows.get(expired.id)).toMatchObject({
      status: 'EXPIRED',
      requester: alice.userArn,
      lateSeconds: 2,
      review: 'justified',
      reviewedBy: sam.userArn,
      chain: 'ok',
      events: 4,
    });
    expect(rows.get(revoked.id)).toMatchObject({
      status: 'REVOKED',
      requester: bob.userArn,
      review: 'unreviewed',
      chain: 'ok',
      events: 3,
    });
    expect(rows.get(revoked.id)!.lateSeconds).toBeLessThan(-25 * 60); // ended ~30 minutes early
    const deniedRow = [...rows.values()].find((g) => g.status === 'DENIED')!;
    expect(deniedRow).toMatchObject({ requester: intern.userArn, review: 'not needed', chain: 'ok' });
    if (deniedId) expect(deniedRow.id).toBe(deniedId);
    expect([...rows.values()].map((g) => g.sequence).sort()).toEqual([1, 2, 3]);
    // … and findings: bob's grant is overdue for review, the intern was denied; nothing is broken.
    const codes = first.report!.findings.map((f) => `${f.code}:${f.grantId ?? f.principal}`);
    expect(codes).toContain(`REVIEW_OVERDUE:${revoked.id}`);
    expect(codes).toContain(`DENIED_ATTEMPTS:${intern.userArn}`);
    expect(first.report!.findings.filter((f) => f.severity === 'HIGH')).toEqual([]);
    expect(first.code).toBe(0);

    // Act: someone with write access rewrites bob's REVOKED reason; the next export is reported
    await world.ddb.send(
      new UpdateItemCommand({
        TableName: world.tableName,
        Key: { pk: { S: `GRANT#${revoked.id}` }, sk: { S: 'EVENT#000003' } },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': { S: 'routine cleanup' } },
      }),
    );
    const second = await report(await exportTo(`exports/dt=${world.suffix}-2`), asOf);

    // Assess: the broken chain is named at the rewritten event, and the exit status says HIGH findings exist
    expect(second.code).toBe(1);
    const broken = second.report!.findings.find((f) => f.code === 'CHAIN_BROKEN')!;
    expect(broken).toMatchObject({ grantId: revoked.id, seq: 3, severity: 'HIGH' });
    expect(second.report!.grants.find((g) => g.id === revoked.id)!.chain).toMatch(/event 3 was changed/);
  });
});
