/**
 * Activation latency through the sandbox's HTTP API (`npm start`, profile-role mode, the `demo` profile) against
 * the emulator floor: the same emulator doing only the four writes an activation cannot avoid — record (one
 * transaction: grant and first event), attach (PutRolePolicy), schedule (CreateSchedule), announce (Publish) —
 * with items and documents of an activation's size. Both are measured in the same run, interleaved one by one,
 * so that a busy machine slows both alike; the ratio of the medians is the figure (target ≤ 2.5).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { emulatorConfig, ensureRole } from '../sandbox/seed.js';
import { startSandbox } from '../test/support/sandbox-process.js';

export interface FloorBench {
  readonly activations: number;
  /** Through the sandbox API: POST /grants, answered 201. */
  readonly apiMs: number[];
  /** The four writes, sequential, straight to the emulator. */
  readonly floorMs: number[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

export async function runFloorBench(activations: number): Promise<FloorBench> {
  const sandbox = await startSandbox({ SANDBOX_SCHEDULER_POLL_MS: '1000' });
  try {
    const config = emulatorConfig(sandbox.moto);
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    const iam = new IAMClient(config);
    const scheduler = new SchedulerClient(config);
    const sns = new SNSClient(config);
    // The floor writes into the sandbox's own table (the emulator's transactions cost more as a table grows, so
    // both pay for the same table), under keys nothing reads; its role, topic and schedule group are its own.
    const table = 'breakglass-sandbox';
    const role = 'BenchFloorRole';
    await ensureRole(iam, role);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'bench-floor' }));
    await scheduler.send(new CreateScheduleGroupCommand({ Name: 'bench-floor' }));
    const api = async (method: string, path: string, principal: string, body: unknown) => {
      const res = await fetch(`${sandbox.api}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-local-principal': principal },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { grant?: { id: string; policyDocument?: string } } };
    };
    const activate = (i: number) =>
      api('POST', '/grants', `arn:aws:sts::123456789012:assumed-role/Responder/bench${i}`, {
        profile: 'demo',
        reason: 'benchmark: activation through the sandbox API',
        durationMinutes: 30,
      });
    // Warm up (module loading, connection pools) and take an activation's real sizes for the floor.
    let sample = { grant: {} as Record<string, unknown>, policy: '{}' };
    for (let i = 0; i < 3; i++) {
      const res = await activate(-1 - i);
      if (res.status !== 201) throw new Error(`warm-up activation: ${res.status} ${JSON.stringify(res.body)}`);
      const grant = res.body.grant!;
      sample = { grant, policy: grant.policyDocument ?? '{}' };
      await api(
        'POST',
        `/grants/${grant.id}/revoke`,
        `arn:aws:sts::123456789012:assumed-role/Responder/bench${-1 - i}`,
        {
          reason: 'benchmark warm-up done',
        },
      );
    }
    const apiMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < activations; i++) {
      // The floor: the four writes, nothing else.
      const id = randomUUID();
      const expiresAt = new Date(Date.now() + 30 * 60_000).toISOString().replace(/\.\d{3}Z$/, '');
      let t = performance.now();
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: { ...sample.grant, pk: `BENCHFLOOR#${id}`, sk: 'GRANT', id },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table,
                Item: { pk: `BENCHFLOOR#${id}`, sk: 'EVENT#000001', type: 'REQUESTED', hash: id, at: expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      await iam.send(
        new PutRolePolicyCommand({ RoleName: role, PolicyName: `breakglass-${id}`, PolicyDocument: sample.policy }),
      );
      await scheduler.send(
        new CreateScheduleCommand({
          Name: id,
          GroupName: 'bench-floor',
          ScheduleExpression: `at(${expiresAt})`,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: 'arn:aws:lambda:us-east-1:123456789012:function:bench-floor',
            RoleArn: 'arn:aws:iam::123456789012:role/bench-floor',
            Input: JSON.stringify({ grantId: id }),
          },
        }),
      );
      await sns.send(new PublishCommand({ TopicArn, Subject: 'bench floor', Message: JSON.stringify(sample.grant) }));
      floorMs.push(performance.now() - t);
      // Untimed: leave the emulator as it was.
      await iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: `breakglass-${id}` }));
      await scheduler.send(new DeleteScheduleCommand({ Name: id, GroupName: 'bench-floor' }));

      // The activation through the API.
      t = performance.now();
      const res = await activate(i);
      apiMs.push(performance.now() - t);
      if (res.status !== 201)
        throw new Error(`activation ${i} through the sandbox: ${res.status} ${JSON.stringify(res.body)}`);
      // Untimed: free the profile's slot (demo has 5) for the next one.
      const revoked = await api(
        'POST',
        `/grants/${res.body.grant!.id}/revoke`,
        `arn:aws:sts::123456789012:assumed-role/Responder/bench${i}`,
        { reason: 'benchmark activation measured' },
      );
      if (revoked.status !== 200) throw new Error(`revoke ${i}: ${revoked.status} ${JSON.stringify(revoked.body)}`);
    }
    return { activations, apiMs, floorMs };
  } finally {
    await sandbox.stop();
  }
}

/** The table rows: medians and their ratio. */
export function formatFloorBench(result: FloorBench): Array<[string, string]> {
  const api = median(result.apiMs);
  const floor = median(result.floorMs);
  return [
    [
      `activation through the sandbox API, median (${result.activations} sequential, profile-role mode, fresh sandbox)`,
      `${api.toFixed(1)} ms`,
    ],
    [
      'emulator floor, median (record + attach + schedule + announce: 4 writes, same emulator, interleaved)',
      `${floor.toFixed(1)} ms`,
    ],
    ['ratio API / floor (target ≤ 2.5)', `${(api / floor).toFixed(2)}×`],
  ];
}
