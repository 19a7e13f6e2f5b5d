/**
 * Powertools logs and metrics as the functions write them: the event metrics (one EMF line per
 * recorded audit event), the store wrapper that counts them, and the two handler factories
 * (correlation id, structured error log, unchanged HTTP error mapping).
 */
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_METRICS, METRICS_NAMESPACE, METRICS_SERVICE } from '../../../functions/adapters/emf-metrics.js';
import { GrantNotFoundError } from '../../../functions/domain/errors.js';
import type { Grant } from '../../../functions/domain/grant.js';
import type { GrantStore } from '../../../functions/domain/ports.js';
import { httpHandler, jobHandler } from '../../../functions/handlers/factory.js';
import type { ApiEvent } from '../../../functions/handlers/http.js';
import { domainLog, publishEventMetric, withEventMetrics } from '../../../functions/handlers/observability.js';

type Line = Record<string, any>;

/** Every JSON line Powertools writes (its own Console over stdout and stderr) while `fn` runs. */
async function captured(fn: () => Promise<unknown> | unknown): Promise<Line[]> {
  const lines: string[] = [];
  const grab = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  try {
    await fn();
  } catch {
    // the caller asserts on the error separately
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines.map((l) => JSON.parse(l));
}

afterEach(() => vi.restoreAllMocks());

const grant = { profile: 'demo', expiresAt: '2026-01-01T10:00:00.000Z' } as Grant;
const deployed = new Set(['demo']);

describe('event metrics', () => {
  it('writes one EMF line per counted event, over all profiles and per deployed profile', async () => {
    // Act
    const lines = await captured(() =>
      publishEventMetric(grant, { type: 'ACTIVATED', at: '2026-01-01T09:00:00.000Z' }, deployed),
    );

    // Assess
    expect(lines).toHaveLength(1);
    const doc = lines[0]!;
    expect(doc._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service'], ['service', 'profile']],
        Metrics: [{ Name: EVENT_METRICS.activations, Unit: 'Count' }],
      },
    ]);
    expect(doc).toMatchObject({ service: METRICS_SERVICE, profile: 'demo', [EVENT_METRICS.activations]: 1 });
  });

  it('gives a profile the deployment does not have no dimension of its own (callers cannot mint series)', async () => {
    const lines = await captured(() =>
      publishEventMetric({ ...grant, profile: 'made-up' }, { type: 'DENIED', at: grant.expiresAt }, deployed),
    );
    expect(lines[0]!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(lines[0]!.profile).toBeUndefined();
    expect(lines[0]![EVENT_METRICS.denied]).toBe(1);
  });

  it('measures expiry lag in seconds after the grant expired', async () => {
    const lines = await captured(() =>
      publishEventMetric(grant, { type: 'EXPIRED', at: '2026-01-01T10:00:42.500Z' }, deployed),
    );
    expect(lines[0]!._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: EVENT_METRICS.expiryLag, Unit: 'Seconds' }]);
    expect(lines[0]![EVENT_METRICS.expiryLag]).toBe(42.5);
  });

  it.each([
    ['ACTIVATION_FAILED', EVENT_METRICS.activationFailed],
    ['ROLLBACK_FAILED', EVENT_METRICS.rollbackFailed],
    ['REVOKED', EVENT_METRICS.revocations],
  ] as const)('counts %s as %s', async (type, name) => {
    const lines = await captured(() => publishEventMetric(grant, { type, at: grant.expiresAt }, deployed));
    expect(lines[0]![name]).toBe(1);
  });

  it('counts nothing for events that are no metric', async () => {
    expect(
      await captured(() => publishEventMetric(grant, { type: 'REQUESTED', at: grant.expiresAt }, deployed)),
    ).toEqual([]);
  });

  it('counts an event once the store has recorded it, never when the write failed, and leaves other methods alone', async () => {
    // Prepare
    const written = { ...grant, id: 'g1' } as Grant;
    let fail = false;
    const inner = {
      secret: 'kept',
      create: async () => {
        if (fail) throw new Error('ConditionalCheckFailed');
        return written;
      },
      append: async () => written,
      get(this: { secret: string }) {
        return Promise.resolve(this.secret);
      },
    };
    const store = withEventMetrics(inner as unknown as GrantStore, () => deployed);
    const event = { type: 'ACTIVATED', at: grant.expiresAt, actor: 'a', outcome: 'SUCCESS' } as const;

    // Act
    const ok = await captured(() => store.create(written, event));
    fail = true;
    const failed = await captured(() => store.create(written, event));
    const revoked = await captured(() => store.append(written, { ...event, type: 'REVOKED' }));

    // Assess
    expect(ok.map((l) => l[EVENT_METRICS.activations])).toEqual([1]);
    expect(failed).toEqual([]);
    expect(revoked.map((l) => l[EVENT_METRICS.revocations])).toEqual([1]);
    expect(await store.get('g1')).toBe('kept');
  });
  it("passes every argument through to the store: the activation's claims (its conditions) and an append's changes", async () => {
    // Prepare
    const seen: unknown[][] = [];
    const inner = {
      create: async (...args: unknown[]) => {
        seen.push(args);
        return { ...grant, id: 'g2' };
      },
      append: async (...args: unknown[]) => {
        seen.push(args);
        return { ...grant, id: 'g2' };
      },
    };
    const store = withEventMetrics(inner as unknown as GrantStore, () => deployed);
    const event = { type: 'ACTIVATED', at: grant.expiresAt, actor: 'a', outcome: 'SUCCESS' } as const;
    const claims = { slot: 1, maxActive: 3 };

    // Act
    await captured(() => store.create(grant, event, undefined, claims));
    await captured(() => store.append(grant, { ...event, type: 'REVOKED' }, { status: 'REVOKED' }));

    // Assess
    expect(seen[0]).toEqual([grant, event, undefined, claims]);
    expect(seen[1]?.[2]).toEqual({ status: 'REVOKED' });
  });
});

describe('logs', () => {
  it("writes the use cases' { msg, ...fields } as a Powertools JSON line", async () => {
    const lines = await captured(() =>
      domainLog.error({ msg: 'activation step failed', grantId: 'g1', step: 'attach' }),
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'activation step failed',
        service: METRICS_SERVICE,
        grantId: 'g1',
        step: 'attach',
      }),
    ]);
  });
});

describe('handler factories', () => {
  const context = { awsRequestId: 'aws-req-1', functionName: 'breakglass-expire-grant' } as Context;

  it('a job logs one structured error with its correlation id (the grant id), then throws the error on to Lambda', async () => {
    // Prepare
    const handler = jobHandler('expire-grant', async (_event: { grantId: string }) => {
      domainLog.info({ msg: 'working' });
      throw new Error('IAM said no');
    });

    // Act
    let thrown: unknown;
    const lines = await captured(() =>
      handler({ grantId: '3ab9c0de-0000-4000-8000-000000000000' }, context).catch((e: unknown) => {
        thrown = e;
      }),
    );

    // Assess
    expect((thrown as Error).message).toBe('IAM said no');
    expect(lines.map((l) => [l.message, l.correlation_id])).toEqual([
      ['working', '3ab9c0de-0000-4000-8000-000000000000'],
      ['job failed', '3ab9c0de-0000-4000-8000-000000000000'],
    ]);
    expect(lines[1]).toMatchObject({
      level: 'ERROR',
      job: 'expire-grant',
      function_request_id: 'aws-req-1',
      error: { name: 'Error', message: 'IAM said no' },
    });
  });

  it('a scheduled job without a grant id is correlated by its event id, else the invocation id; keys do not leak between runs', async () => {
    const handler = jobHandler('sweep', async () => domainLog.info({ msg: 'ran' }));
    const lines = await captured(async () => {
      await handler({ id: 'eb-event-7' }, context);
      await handler({}, context);
      await handler({}, {} as Context);
    });
    expect(lines.map((l) => l.correlation_id)).toEqual(['eb-event-7', 'aws-req-1', undefined]);
  });

  it('an HTTP handler logs with the API request id and keeps the error mapping (4xx with its message)', async () => {
    const handler = httpHandler(async () => {
      domainLog.warn({ msg: 'looking' });
      throw new GrantNotFoundError('No grant x');
    });
    const event = { requestContext: { requestId: 'api-req-9', identity: {} }, headers: {} } as unknown as ApiEvent;
    let response: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await captured(async () => {
      response = await handler(event, context);
    });
    expect(response?.statusCode).toBe(404);
    expect(JSON.parse(response!.body)).toEqual({
      error: { code: 'GrantNotFound', message: 'No grant x', requestId: 'aws-req-1' },
    });
    expect(lines.map((l) => [l.message, l.correlation_id])).toEqual([['looking', 'api-req-9']]);
  });

  it('runs without a Lambda context (sandbox, tests)', async () => {
    const handler = jobHandler('check-reviews', async () => 'done');
    expect(await handler({}, undefined as unknown as Context)).toBe('done');
  });
});
