/**
 * The drill over in-memory ports: every step passes on a healthy deployment and the DRILL result is
 * recorded; a broken step (the grant's policy gone, the outside call allowed, the alerts missing) fails
 * that step, skips the rest, leaves no access behind and publishes a CRITICAL alert naming the step
 * and the fix. Drill profiles are refused outside a drill.
 */
import { describe, expect, it } from 'vitest';
import { analyseGrant } from '../../../audit/grant-analysis.js';
import { type ActivationRules, activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import {
  type DrillInbox,
  type DrillProbe,
  type DrillRequest,
  type DrillResult,
  type DrillRun,
  type DrillStore,
  getDrill,
  listDrills,
  type ProbeCall,
  type ReceivedAlert,
  runDrill,
  startDrill,
} from '../../../functions/domain/drill.js';
import {
  DrillNotFoundError,
  DrillOnlyError,
  ForbiddenError,
  ProfileConfigError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import type { PolicyDocument } from '../../../functions/domain/policy-builder.js';
import type { AuditLog } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { checkOverdueReviews } from '../../../functions/domain/review-check.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ACCOUNT, ALICE, fakePorts, SECURITY } from '../../support/fakes.js';

const TARGET = `arn:aws:sqs:us-east-1:${ACCOUNT}:breakglass-drill-target`;
const drillProfile = {
  name: 'drill',
  description: 'drill',
  owner: 'security@example.com',
  maxDurationMinutes: 15,
  drill: true,
  statements: [{ actions: ['sqs:GetQueueAttributes'], resources: [TARGET] }],
};
const profiles = parseProfiles({
  version: 1,
  profiles: [
    {
      name: 'demo',
      description: 'demo',
      owner: 'platform@example.com',
      maxDurationMinutes: 60,
      eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
      statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
    },
    drillProfile,
  ],
});
const rules: ActivationRules = { ...DEFAULT_RULES, protectedResources: [`arn:aws:iam::${ACCOUNT}:role/breakglass/*`] };
const settings = { partition: 'aws', accountId: ACCOUNT };

/** Judges a call by the policies attached (in memory) to the session's role: Allow of the action on the resource. */
class MemoryProbe implements DrillProbe {
  readonly judgedBy = 'test evaluator';
  readonly calls: ProbeCall[] = [];
  allowEverything = false;
  constructor(private readonly ports: ReturnType<typeof fakePorts>) {}
  async call(call: ProbeCall) {
    this.calls.push(call);
    if (this.allowEverything) return { allowed: true, detail: 'OK' };
    const role = call.roleArn.split('/').pop()!;
    const now = this.ports.clock.now().toISOString();
    const allowed = [...this.ports.access.policies.entries()]
      .filter(([key]) => key.startsWith(`role/${role}/`))
      .some(([, doc]) =>
        (JSON.parse(doc) as PolicyDocument).Statement.some(
          (s) =>
            s.Effect === 'Allow' &&
            s.Action.includes(call.action) &&
            s.Resource.includes(call.resource) &&
            String(s.Condition?.DateLessThan?.['aws:CurrentTime'] ?? '9999') > now,
        ),
      );
    return allowed ? { allowed, detail: 'OK' } : { allowed, detail: 'AccessDenied' };
  }
}

/** The drill queue: what the notifier published with `drill = "true"`, as SQS would deliver it. */
class MemoryInbox implements DrillInbox {
  drop = false;
  constructor(private readonly ports: ReturnType<typeof fakePorts>) {}
  async collect(grantId: string): Promise<ReceivedAlert[]> {
    if (this.drop) return [];
    return this.ports.notifier.alerts
      .filter((a) => a.attributes.drill === 'true' && a.attributes.grantId === grantId)
      .map((a) => ({
        eventType: a.attributes.eventType,
        grantId,
        at: String(a.machine?.at),
        receivedAt: this.ports.clock.now().toISOString(),
      }));
  }
}

class MemoryDrills implements DrillStore {
  readonly results: DrillResult[] = [];
  readonly runs = new Map<string, DrillRun>();
  /** Every progress saved, in order. */
  readonly saved: DrillRun[] = [];
  async record(result: DrillResult) {
    this.results.unshift(result);
  }
  async latest(limit: number) {
    return this.results.slice(0, limit);
  }
  async progress(run: DrillRun) {
    this.runs.set(run.id, structuredClone(run));
    this.saved.push(structuredClone(run));
  }
  async get(id: string) {
    return this.runs.get(id);
  }
}

function setup() {
  const ports = fakePorts();
  const probe = new MemoryProbe(ports);
  const inbox = new MemoryInbox(ports);
  const drills = new MemoryDrills();
  const vendor = {
    assume: async () => ({
      accessKeyId: 'ASIA',
      secretAccessKey: 'S',
      sessionToken: 'T',
      expiration: '2026-11-24T11:00:00Z',
    }),
  };
  // The expiry schedule, as the scheduler would fire it: time passes, then the expiry function runs.
  const deps = {
    ports,
    vendor,
    settings,
    rules,
    probe,
    inbox,
    drills,
    securityPrincipals: [`arn:aws:iam::${ACCOUNT}:role/Security`],
    sleep: async (ms: number) => ports.clock.advance(ms),
  };
  return { ports, probe, inbox, drills, deps };
}

const critical = (ports: ReturnType<typeof fakePorts>) =>
  ports.notifier.alerts.filter((a) => a.attributes.eventType === 'DRILL_FAILED');

describe('drill profiles', () => {
  it('refuses a drill profile through POST /grants with 403 DrillProfile, recorded as DENIED', async () => {
    const ports = fakePorts();
    const attempt = activateGrant(
      ports,
      profiles,
      { caller: { arn: SECURITY }, body: { profile: 'drill', reason: 'trying the drill role by hand' } },
      rules,
    );
    await expect(attempt).rejects.toThrowError(DrillOnlyError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 403, code: 'DrillProfile' });
    expect([...ports.store.grants.values()].map((g) => g.status)).toEqual(['DENIED']);
    expect(ports.access.policies.size).toBe(0);
  });

  it('rejects a drill profile with eligible principals, more than one action, a wildcard, or an action no probe makes', () => {
    const parse = (overrides: Record<string, unknown>) => () =>
      parseProfiles({ version: 1, profiles: [{ ...drillProfile, ...overrides }] });
    expect(parse({ eligible: [`arn:aws:iam::${ACCOUNT}:role/Security`] })).toThrowError(/no eligible principals/);
    expect(
      parse({ statements: [{ actions: ['sqs:GetQueueAttributes', 'sqs:ListQueues'], resources: [TARGET] }] }),
    ).toThrowError(ProfileConfigError);
    expect(
      parse({ statements: [{ actions: ['sqs:GetQueueAttributes'], resources: ['arn:aws:sqs:*:*:*'] }] }),
    ).toThrowError(/exactly one Allow statement/);
    expect(parse({ statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/k'] }] })).toThrowError(
      /sqs:GetQueueAttributes/,
    );
    expect(() => parseProfiles({ version: 1, profiles: [{ ...drillProfile, drill: false }] })).toThrowError(
      /eligible needs at least one principal/,
    );
  });
});

describe('runDrill', () => {
  it('passes every step on a healthy deployment, leaves no access and records the result with timings', async () => {
    // Prepare
    const { ports, probe, drills, deps } = setup();

    // Act
    const result = await runDrill(deps, profiles, { caller: { arn: SECURITY } });

    // Assess
    expect(result.outcome).toBe('PASSED');
    expect(result.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['activate', 'passed'],
      ['credentials', 'passed'],
      ['outside', 'passed'],
      ['end', 'passed'],
      ['alerts', 'passed'],
      ['record', 'passed'],
    ]);
    expect(result.timings).toMatchObject({ timeToAccessMs: expect.any(Number), timeToRevokeMs: expect.any(Number) });
    expect(result.judgedBy).toBe('test evaluator');
    expect(probe.calls.map((c) => c.action)).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:ListQueueTags',
      'sqs:GetQueueAttributes',
    ]);
    const grant = ports.store.grants.get(result.grantId!)!;
    expect(grant).toMatchObject({ status: 'REVOKED', drill: true, profile: 'drill' });
    // No access is left: only the Deny of the drill grant's ended session (ended-sessions.ts).
    expect([...ports.access.policies.keys()].filter((k) => !k.includes('/bg-ended-sessions'))).toEqual([]);
    expect(drills.results).toEqual([result]);
    // Every alert of the drill's grant carries the drill attribute; nothing CRITICAL went out.
    const ofGrant = ports.notifier.alerts.filter((a) => a.attributes.grantId === grant.id);
    expect(ofGrant.map((a) => a.attributes.eventType)).toEqual(['ACTIVATED', 'CREDENTIALS_ISSUED', 'REVOKED']);
    expect(ofGrant.every((a) => a.attributes.drill === 'true' && a.subject.startsWith('[break-glass DRILL'))).toBe(
      true,
    );
    expect(critical(ports)).toEqual([]);
    const summary = await listDrills(drills, ports.clock);
    expect(summary.last?.id).toBe(result.id);
    expect(summary.ageDays).toBe(0);
  });

  it('lets a one-minute grant expire in expire mode and measures the expiry lag', async () => {
    const { ports, deps } = setup();
    // The expiry function, as the schedule would run it, 3 s after the planned expiry.
    const { expireGrant } = await import('../../../functions/domain/expire-grant.js');
    const sleep = async (ms: number) => {
      ports.clock.advance(ms);
      for (const g of ports.store.grants.values())
        if (g.status === 'ACTIVE' && Date.parse(g.expiresAt) + 3_000 <= ports.clock.now().getTime())
          await expireGrant(ports, g.id);
    };
    const result = await runDrill({ ...deps, sleep }, profiles, {
      caller: { arn: SECURITY },
      body: { mode: 'expire' },
    });
    expect(result.outcome).toBe('PASSED');
    expect(result.mode).toBe('expire');
    expect(ports.store.grants.get(result.grantId!)).toMatchObject({ status: 'EXPIRED', durationMinutes: 1 });
    expect(result.timings.expiryLagMs).toBeGreaterThanOrEqual(3_000);
  });

  it("fails the credentials step when the drill role's policy is removed by hand, and alerts CRITICAL with the step and the fix", async () => {
    // Prepare: whatever break-glass attaches to a profile role vanishes (someone removed it by hand).
    const { ports, drills, deps } = setup();
    const attach = ports.access.attach.bind(ports.access);
    ports.access.attach = async (target, name, doc) => {
      await attach(target, name, doc);
      ports.access.policies.delete(ports.access.key(target, name));
    };

    // Act
    const result = await runDrill(deps, profiles, { caller: { arn: SECURITY } });

    // Assess
    expect(result).toMatchObject({ outcome: 'FAILED', failedStep: 'credentials' });
    expect(result.steps.find((s) => s.name === 'credentials')).toMatchObject({
      outcome: 'failed',
      detail: expect.stringContaining('sqs:GetQueueAttributes'),
      fix: expect.stringContaining('trust policy'),
    });
    expect(result.steps.filter((s) => s.outcome === 'skipped').map((s) => s.name)).toEqual([
      'outside',
      'end',
      'alerts',
    ]);
    // The drill cleaned up after itself and the result is recorded.
    expect(ports.store.grants.get(result.grantId!)!.status).toBe('REVOKED');
    expect(drills.results[0]?.outcome).toBe('FAILED');
    const [alert] = critical(ports);
    expect(alert).toBeDefined();
    expect(alert!.attributes).toMatchObject({ severity: 'CRITICAL', eventType: 'DRILL_FAILED' });
    expect(alert!.attributes.drill).toBeUndefined();
    expect(alert!.subject).toContain('DRILL FAILED at step credentials');
    expect(alert!.body).toContain('Fix:');
  });

  it('fails the outside step when the grant allows more than its profile', async () => {
    const { ports, probe, deps } = setup();
    probe.allowEverything = true;
    const result = await runDrill(deps, profiles, { caller: { arn: SECURITY } });
    expect(result).toMatchObject({ outcome: 'FAILED', failedStep: 'outside' });
    expect(critical(ports)[0]?.subject).toContain('step outside');
  });

  it('fails the alerts step when the drill queue receives nothing', async () => {
    const { ports, inbox, deps } = setup();
    inbox.drop = true;
    const result = await runDrill(deps, profiles, { caller: { arn: SECURITY } });
    expect(result).toMatchObject({ outcome: 'FAILED', failedStep: 'alerts' });
    expect(result.steps.find((s) => s.name === 'alerts')?.detail).toContain('ACTIVATED, CREDENTIALS_ISSUED, REVOKED');
    expect(critical(ports)).toHaveLength(1);
  });

  it('refuses a caller who is not a security principal, and a drill grant keeps its credentials to the drill', async () => {
    const { ports, deps } = setup();
    await expect(runDrill(deps, profiles, { caller: { arn: ALICE } })).rejects.toThrowError(ForbiddenError);
    expect(ports.store.grants.size).toBe(0);
    // A drill grant's requester cannot take its credentials through POST /grants/{id}/credentials.
    const { grant } = await activateGrant(
      ports,
      profiles,
      { caller: { arn: SECURITY }, body: { profile: 'drill', reason: 'drill by hand' }, drill: true },
      rules,
    );
    await expect(
      issueCredentials({ ...ports, vendor: deps.vendor }, profiles, settings, {
        grantId: grant.id,
        caller: { arn: SECURITY },
      }),
    ).rejects.toThrowError(/drill/);
  });
});

describe('startDrill and the drill progress (POST /drills answers 202, GET /drills/{id})', () => {
  const startDeps = (drills: MemoryDrills, launched: DrillRequest[], ports: ReturnType<typeof fakePorts>) => ({
    securityPrincipals: [`arn:aws:iam::${ACCOUNT}:role/Security`],
    drills,
    launcher: { launch: async (r: DrillRequest) => void launched.push(r) },
    clock: ports.clock,
    newId: () => 'd-1',
  });

  it('saves the drill as RUNNING and launches it without running any step', async () => {
    // Prepare
    const { ports, drills } = setup();
    const launched: DrillRequest[] = [];

    // Act
    const run = await startDrill(startDeps(drills, launched, ports), profiles, {
      caller: { arn: SECURITY },
      body: { mode: 'expire' },
    });

    // Assess
    expect(run).toMatchObject({ id: 'd-1', mode: 'expire', by: SECURITY, status: 'RUNNING', steps: [] });
    expect(launched).toEqual([{ id: 'd-1', mode: 'expire', by: SECURITY, requestedAt: run.requestedAt }]);
    expect(await getDrill(drills, 'd-1')).toMatchObject({ status: 'RUNNING' });
    expect(ports.store.grants.size).toBe(0);
  });

  it('refuses a non-security caller (403) and a bad mode (400) before saving or launching anything', async () => {
    const { ports, drills } = setup();
    const launched: DrillRequest[] = [];
    await expect(
      startDrill(startDeps(drills, launched, ports), profiles, { caller: { arn: ALICE } }),
    ).rejects.toThrowError(ForbiddenError);
    await expect(
      startDrill(startDeps(drills, launched, ports), profiles, { caller: { arn: SECURITY }, body: { mode: 'x' } }),
    ).rejects.toThrowError(ValidationError);
    expect(launched).toEqual([]);
    expect(drills.runs.size).toBe(0);
    await expect(getDrill(drills, 'nope')).rejects.toThrowError(DrillNotFoundError);
    await expect(getDrill(drills, '../x')).rejects.toThrowError(ValidationError);
  });

  it('reports the steps as they pass, then the result, under the requested id', async () => {
    // Prepare
    const { deps, drills } = setup();

    // Act
    const result = await runDrill(
      deps,
      profiles,
      { caller: { arn: SECURITY } },
      {
        id: 'd-2',
        onProgress: (steps, done) =>
          drills.progress({
            id: 'd-2',
            mode: 'revoke',
            by: SECURITY,
            requestedAt: '',
            status: done ? done.outcome : 'RUNNING',
            steps,
            ...(done ? { result: done } : {}),
          }),
      },
    );

    // Assess: one save per step (activate … alerts), then the result
    expect(result.id).toBe('d-2');
    expect(drills.saved.map((r) => r.steps.length)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(drills.saved.slice(0, 5).every((r) => r.status === 'RUNNING')).toBe(true);
    expect(drills.runs.get('d-2')).toMatchObject({ status: 'PASSED', result: { id: 'd-2', outcome: 'PASSED' } });
  });
});

describe("drills' grants are no one's access", () => {
  /** A passed drill's grant and a responder's revoked grant, both ended and due for review. */
  async function endedGrants() {
    const { ports, deps } = setup();
    const result = await runDrill(deps, profiles, { caller: { arn: SECURITY } });
    const { grant } = await activateGrant(
      ports,
      profiles,
      { caller: { arn: ALICE }, body: { profile: 'demo', reason: 'checkout is failing for all users' } },
      rules,
    );
    await revokeGrant(ports, [], { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'done' } });
    const drillGrant = ports.store.grants.get(result.grantId!)!;
    const real = ports.store.grants.get(grant.id)!;
    // Both are due for review as stored: without the drill exclusion both would be reported.
    expect(drillGrant).toMatchObject({ drill: true, reviewState: 'DUE', status: 'REVOKED' });
    expect(real).toMatchObject({ reviewState: 'DUE', status: 'REVOKED' });
    return { ports, drillGrant, real };
  }

  it('raises no overdue-review reminder for a drill grant', async () => {
    // Prepare
    const { ports, drillGrant, real } = await endedGrants();
    const due = [drillGrant, real];
    const audit: AuditLog = { queryEvents: async () => ({ events: [] }), reviewsDue: async () => due };
    const check = { audit, notifier: ports.notifier, clock: ports.clock, log: ports.log };
    ports.clock.advance(10 * 86_400_000);
    const before = ports.notifier.alerts.length;

    // Act
    const report = await checkOverdueReviews(check, 3);

    // Assess: the responder's grant is announced, the drill's is not, nor its profile
    expect(report).toEqual({ overdue: 1, profiles: ['demo'] });
    const sent = ports.notifier.alerts.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toContain(real.id);
    expect(sent[0]!.body).not.toContain(drillGrant.id);
    // Only drills due: no reminder at all.
    due.splice(1, 1);
    expect(await checkOverdueReviews(check, 3)).toEqual({ overdue: 0, profiles: [] });
    expect(ports.notifier.alerts.slice(before)).toHaveLength(1);
  });

  it("is no review, ticket or risk finding in the audit report, and no 'unreviewed' grant", async () => {
    // Prepare: every grant-level rule on, ten days after both ended
    const { ports, drillGrant, real } = await endedGrants();
    const asOf = new Date(ports.clock.now().getTime() + 10 * 86_400_000);
    const policy = {
      lateSeconds: 300,
      reviewDays: 3,
      asOf,
      snapshotAt: asOf,
      ticketRequired: () => true,
      acknowledgedRisks: () => ['iam-pass-role'],
    };

    // Act
    const drill = analyseGrant(drillGrant, await ports.store.events(drillGrant.id), policy);
    const control = analyseGrant(real, await ports.store.events(real.id), policy);

    // Assess: the same rules find all three on the responder's grant, none on the drill's
    expect(control.findings.map((f) => f.code).sort()).toEqual([
      'MISSING_TICKET',
      'REVIEW_OVERDUE',
      'RISK_ACKNOWLEDGED',
    ]);
    expect(control.row.review).toBe('unreviewed');
    expect(drill.chainOk).toBe(true);
    expect(drill.findings).toEqual([]);
    expect(drill.row.review).toBe('not needed');
  });
});
