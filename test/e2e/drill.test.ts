/**
 * Drills in the sandbox, as `npm start` runs them: `breakglass drill` passes every step (the calls
 * judged by the policy evaluator, since the emulator does not judge IAM) and its DRILL record appears
 * in `GET /drills`; with the drill profile's roles deleted by hand, the drill fails at that step and a
 * CRITICAL DRILL_FAILED alert reaches the topic (read back through a queue subscribed here without a
 * filter, as an on-call mailbox would be); likewise with the drill role's permissions boundary stripped of
 * its Allow by hand (the drill's granted call is then denied: the credentials step fails). POST /drills
 * answers 202 at once and the CLI polls GET /drills/{id}. No timing is asserted: only outcomes.
 */
import { execFile } from 'node:child_process';
import {
  CreatePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListRolesCommand,
  SetDefaultPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig } from '../../sandbox/seed.js';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

const SECURITY = 'arn:aws:sts::123456789012:assumed-role/Security/sam';
let sandbox: SandboxProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
}, 11 * 60_000);
afterAll(async () => sandbox?.stop());

const call = async (method: string, path: string, body?: unknown, principal = SECURITY) => {
  const res = await fetch(`${sandbox.api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-local-principal': principal },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/breakglass.mjs', ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          BREAKGLASS_ENDPOINT: sandbox.api,
          BREAKGLASS_LOCAL_PRINCIPAL: SECURITY,
        },
        timeout: 10 * 60_000 /* hang guard */,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('drills in the sandbox', () => {
  it(
    'passes every step, prints each with its outcome and timings, and records the DRILL result in GET /drills',
    async () => {
      // Act
      const run = await cli(['drill']);

      // Assess: each step printed, the evaluator named, the result recorded
      expect(run.stderr).not.toContain('✖');
      expect(run.code).toBe(0);
      for (const step of ['activate', 'credentials', 'outside', 'end', 'alerts', 'record'])
        expect(run.stdout).toMatch(new RegExp(`✔ ${step}\\s+passed`));
      expect(run.stdout).toContain('judged by: policy evaluator');
      expect(run.stdout).toMatch(/timings: time to access \d/);
      expect(run.stdout).toContain('time to revoke');
      expect(run.stdout).toContain('alert delivery');
      const id = /Drill ([0-9a-f-]{36})/.exec(run.stdout)?.[1];
      const listed = await call('GET', '/drills');
      expect(listed.status).toBe(200);
      expect(listed.body.last).toMatchObject({ id, outcome: 'PASSED', judgedBy: 'policy evaluator', mode: 'revoke' });
      expect(listed.body.ageDays).toBeGreaterThanOrEqual(0);
      // The drill's grant ended revoked, and a responder cannot read drills.
      const grant = await call('GET', `/grants/${listed.body.last.grantId}`);
      expect(grant.body.grant.status).toBe('REVOKED');
      const responder = await call(
        'GET',
        '/drills',
        undefined,
        'arn:aws:sts::123456789012:assumed-role/Responder/alice',
      );
      expect(responder.status).toBe(403);
    },
    10 * 60_000,
  );

  it('refuses the drill profile through POST /grants with a 403', async () => {
    const res = await call('POST', '/grants', { profile: 'drill', reason: 'taking the drill role by hand' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('DrillProfile');
  });

  it(
    'answers POST /drills with 202 and the drill id at once; GET /drills/{id} shows it, 404 for an unknown id',
    async () => {
      // Act
      const started = await call('POST', '/drills', { mode: 'revoke' });

      // Assess: accepted before any step ran, then followed to its end
      expect(started.status).toBe(202);
      expect(started.body.drill).toMatchObject({ status: 'RUNNING', mode: 'revoke', steps: [] });
      const id = started.body.drill.id as string;
      let run = (await call('GET', `/drills/${id}`)).body.drill;
      const deadline = Date.now() + 5 * 60_000; // hang guard
      while (run.status === 'RUNNING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        run = (await call('GET', `/drills/${id}`)).body.drill;
      }
      expect(run).toMatchObject({ id, status: 'PASSED', result: { id, outcome: 'PASSED' } });
      expect(run.steps.map((s: { name: string }) => s.name)).toEqual([
        'activate',
        'credentials',
        'outside',
        'end',
        'alerts',
        'record',
      ]);
      expect((await call('GET', '/drills/00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await call('POST', '/drills', { mode: 'sideways' })).status).toBe(400);
    },
    10 * 60_000,
  );

  it(
    "fails the credentials step when the drill role's boundary policy was stripped by hand, and alerts CRITICAL",
    async () => {
      // Prepare: a mailbox on the topic (no filter), and the Allow removed from the drill roles' boundary
      // by hand (a new default version holding only its Deny): the drill's granted call is then denied.
      const config = emulatorConfig(sandbox.moto);
      const sqs = new SQSClient(config);
      const QueueUrl = await mailbox(config, 'test-oncall-boundary');
      const iam = new IAMClient(config);
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'breakglass-drill-0' }));
      const boundaryArn = Role!.PermissionsBoundary!.PermissionsBoundaryArn!;
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: boundaryArn }));
      const original = Policy!.DefaultVersionId!;
      const { PolicyVersion } = await iam.send(
        new GetPolicyVersionCommand({ PolicyArn: boundaryArn, VersionId: original }),
      );
      const doc = JSON.parse(decodeURIComponent(PolicyVersion!.Document!)) as { Statement: { Effect: string }[] };
      const stripped = { ...doc, Statement: doc.Statement.filter((st) => st.Effect !== 'Allow') };
      expect(stripped.Statement.length).toBeLessThan(doc.Statement.length);
      await iam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: boundaryArn,
          PolicyDocument: JSON.stringify(stripped),
          SetAsDefault: true,
        }),
      );

      try {
        // Act
        const run = await cli(['drill']);

        // Assess: exit 7, the activation passed, the granted call was denied
        expect(run.code).toBe(7);
        expect(run.stdout).toMatch(/✔ activate\s+passed/);
        expect(run.stdout).toMatch(/✖ credentials\s+failed .*denied/);
        expect(run.stdout).toContain("fix: check the profile role's trust policy");
        expect(run.stdout).toMatch(/· outside\s+skipped/);
        expect(run.stdout).toContain('Drill FAILED at step credentials');
        const listed = await call('GET', '/drills');
        expect(listed.body.last).toMatchObject({ outcome: 'FAILED', failedStep: 'credentials' });
        // No access left behind: the drill revoked its grant.
        expect((await call('GET', `/grants/${listed.body.last.grantId}`)).body.grant.status).toBe('REVOKED');
        const alert = await criticalAlert(sqs, QueueUrl, listed.body.last.id);
        expect(alert).toMatchObject({
          eventType: 'DRILL_FAILED',
          severity: 'CRITICAL',
          drill: { id: listed.body.last.id, failedStep: 'credentials' },
          fix: expect.stringContaining("profile role's trust policy"),
        });
      } finally {
        await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: boundaryArn, VersionId: original }));
      }
    },
    10 * 60_000,
  );

  it(
    'fails the activate step when the drill roles were deleted by hand, and publishes a CRITICAL alert naming the step',
    async () => {
      // Prepare: a mailbox on the topic (no filter), and the drill profile's roles deleted
      const config = emulatorConfig(sandbox.moto);
      const sqs = new SQSClient(config);
      const sns = new SNSClient(config);
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'test-oncall-mailbox' }));
      const { Topics } = await sns.send(new ListTopicsCommand({}));
      const topicArn = Topics!.find((t) => t.TopicArn!.includes('breakglass-alerts'))!.TopicArn!;
      await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: 'arn:aws:sqs:us-east-1:123456789012:test-oncall-mailbox',
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      const iam = new IAMClient(config);
      const { Roles } = await iam.send(new ListRolesCommand({}));
      const drillRoles = (Roles ?? []).filter((r) => /^breakglass-drill-\d+$/.test(r.RoleName!));
      expect(drillRoles.length).toBeGreaterThan(0);
      // An earlier drill's ended-sessions Deny (bg-ended-sessions-<slot>) may sit on a role: IAM deletes no role with
      // inline policies, so they go first, as an operator deleting the role would have to.
      for (const r of drillRoles) {
        const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName! }));
        for (const name of PolicyNames ?? [])
          await iam.send(new DeleteRolePolicyCommand({ RoleName: r.RoleName!, PolicyName: name }));
        await iam.send(new DeleteRoleCommand({ RoleName: r.RoleName! }));
      }

      // Act
      const run = await cli(['drill']);

      // Assess: exit 7, the failed step and its fix printed, the rest skipped
      expect(run.code).toBe(7);
      expect(run.stdout).toMatch(/✖ activate\s+failed/);
      expect(run.stdout).toContain('fix: check the drill profile');
      expect(run.stdout).toMatch(/· credentials\s+skipped/);
      expect(run.stdout).toContain('Drill FAILED at step activate');
      const listed = await call('GET', '/drills');
      expect(listed.body.last).toMatchObject({ outcome: 'FAILED', failedStep: 'activate' });
      // The CRITICAL alert, as the mailbox received it .
      const bodies: string[] = [];
      const deadline = Date.now() + 5 * 60_000; // hang guard
      while (!bodies.some((b) => b.includes('DRILL_FAILED')) && Date.now() < deadline) {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 2,
            MessageAttributeNames: ['All'],
          }),
        );
        for (const m of Messages ?? [])
          if (m.MessageAttributes?.eventType?.StringValue === 'DRILL_FAILED') {
            expect(m.MessageAttributes.severity?.StringValue).toBe('CRITICAL');
            expect(m.MessageAttributes.drill).toBeUndefined();
            bodies.push(m.Body ?? '');
          }
      }
      // Raw delivery to SQS: the alert's machine form (the `sqs` key of the SNS message).
      const alert = JSON.parse(bodies.find((b) => b.includes('DRILL_FAILED')) ?? '{}');
      expect(alert).toMatchObject({
        eventType: 'DRILL_FAILED',
        severity: 'CRITICAL',
        drill: { id: listed.body.last.id, failedStep: 'activate' },
        fix: expect.stringContaining('check the drill profile'),
      });
    },
    10 * 60_000,
  );
});

/** A queue subscribed to the alert topic without a filter (an on-call mailbox), raw delivery. */
async function mailbox(config: ReturnType<typeof emulatorConfig>, name: string): Promise<string> {
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Topics } = await sns.send(new ListTopicsCommand({}));
  const topicArn = Topics!.find((t) => t.TopicArn!.includes('breakglass-alerts'))!.TopicArn!;
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: `arn:aws:sqs:us-east-1:123456789012:${name}`,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return QueueUrl!;
}

/** The DRILL_FAILED alert of one drill, as the mailbox received it (CRITICAL, not tagged `drill`). */
async function criticalAlert(sqs: SQSClient, QueueUrl: string, drillId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5 * 60_000; // hang guard
  while (Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const m of Messages ?? []) {
      if (m.MessageAttributes?.eventType?.StringValue !== 'DRILL_FAILED') continue;
      expect(m.MessageAttributes.severity?.StringValue).toBe('CRITICAL');
      expect(m.MessageAttributes.drill).toBeUndefined();
      const alert = JSON.parse(m.Body ?? '{}') as { drill?: { id?: string } };
      if (alert.drill?.id === drillId) return alert;
    }
  }
  return {};
}
