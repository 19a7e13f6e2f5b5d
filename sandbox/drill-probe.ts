/**
 * The sandbox's drill probe: the emulator does not judge IAM, so a policy evaluator does.
 *
 * moto can authorise requests (`INITIAL_NO_AUTH_ACTION_COUNT`, docs/iam.rst of getmoto/moto: "the
 * current implementation is very basic"), but it cannot judge a break-glass grant: it is global (every
 * request after the first N, the sandbox's own included, must then be signed by an IAM user or role it
 * knows), and its policy engine ignores `Resource` and knows no condition key but `sts:ExternalId`
 * (moto/iam/access_control.py: "TODO add support for the Resource and Condition parts of IAM
 * policies"; iam/utils.py `format_incoming_conditional_values`), so every grant statement, guarded by
 * `aws:CurrentTime` and `aws:userid`, would never apply.
 *
 * So this probe reads what the emulator *holds* for the profile role (inline policies, attached
 * managed policies, permissions boundary), evaluates the call with @cloud-copilot/iam-simulate (a
 * devDependency: it never ships in a Lambda), with the session's `aws:userid` and the current time, and,
 * when that allows it, makes the call against the emulator so the resource is real. A role whose policy
 * was removed by hand, or that was deleted, is judged denied. In AWS, IAM judges the call itself
 * (`SqsDrillProbe`).
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetQueueAttributesCommand, ListQueueTagsCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { queueUrlOf } from '../functions/adapters/sqs-drill.adapter.js';
import type { DrillProbe, ProbeCall, ProbeVerdict } from '../functions/domain/drill.js';

type Named = { name: string; policy: unknown };

export class EvaluatingDrillProbe implements DrillProbe {
  readonly judgedBy = 'policy evaluator';

  constructor(private readonly clients: { iam: IAMClient; sqs: SQSClient; now?: () => Date }) {}

  async call(call: ProbeCall): Promise<ProbeVerdict> {
    const { iam } = this.clients;
    const roleName = call.roleArn.split('/').pop()!;
    const account = call.roleArn.split(':')[4]!;
    let role: { RoleId?: string; PermissionsBoundary?: { PermissionsBoundaryArn?: string } } | undefined;
    try {
      role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchEntityException')
        return { allowed: false, detail: `role ${roleName} does not exist (AccessDenied: no session can be opened)` };
      throw error;
    }
    const decode = (doc: string | undefined) => JSON.parse(decodeURIComponent(doc ?? '{}')) as unknown;
    const identity: Named[] = [];
    const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    for (const name of PolicyNames ?? []) {
      const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      identity.push({ name, policy: decode(PolicyDocument) });
    }
    const managed = async (arn: string): Promise<Named> => {
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
      const { PolicyVersion } = await iam.send(
        new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy!.DefaultVersionId! }),
      );
      return { name: Policy!.PolicyName!, policy: decode(PolicyVersion?.Document) };
    };
    const { AttachedPolicies } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    for (const p of AttachedPolicies ?? []) identity.push(await managed(p.PolicyArn!));
    const boundaryArn = role?.PermissionsBoundary?.PermissionsBoundaryArn;
    const boundary = boundaryArn ? [await managed(boundaryArn)] : undefined;

    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:sts::${account}:assumed-role/${roleName}/${call.sessionName}`,
          action: call.action,
          resource: { resource: call.resource, accountId: call.resource.split(':')[4] ?? account },
          contextVariables: {
            'aws:userid': `${role?.RoleId}:${call.sessionName}`,
            'aws:CurrentTime': (this.clients.now?.() ?? new Date()).toISOString(),
          },
        },
        identityPolicies: identity,
        ...(boundary ? { permissionBoundaryPolicies: boundary } : {}),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`policy evaluator: ${JSON.stringify(result.errors)}`);
    const decision = (result as { overallResult: string }).overallResult;
    if (decision !== 'Allowed') return { allowed: false, detail: `AccessDenied (${decision})` };
    // Allowed by the policies: make the call against the emulator, so the resource has to exist.
    const QueueUrl = queueUrlOf(call.resource);
    if (call.action === 'sqs:GetQueueAttributes')
      await this.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    else if (call.action === 'sqs:ListQueueTags') await this.clients.sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    else throw new Error(`The drill probe cannot make ${call.action}`);
    return { allowed: true, detail: 'OK' };
  }
}
