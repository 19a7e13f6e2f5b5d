/**
 * The spoke: what break-glass puts in a member account (`functions/domain/accounts.ts`).
 *
 * - the profile roles (with their permissions boundaries) of the profiles that grant in this
 *   account, trusting only the hub's credential function role;
 * - one manager role, `/breakglass/breakglass-spoke-manager`, trusting only the hub's lifecycle
 *   function roles (activation, extension, revocation, expiry, kill switch, sweeper), allowed only
 *   `iam:PutRolePolicy`, `iam:DeleteRolePolicy`, `iam:ListRolePolicies`, `iam:GetRolePolicy` on
 *   `role/breakglass/profile/*` of this account;
 * - action logging's forwarder (`SpokeActivityForwarder`, `activity-capture.ts`): a rule on the default
 *   bus matching CloudTrail's API calls by this account's profile-role sessions, forwarding them to the
 *   hub's activity bus with a role that may only `events:PutEvents` on that bus.
 *
 * No state: grants, events and alerts stay in the hub. Two ways to deploy it: the
 * {@link BreakGlassSpokeStack} (one CDK stack per account, for teams that deploy CDK per account),
 * or the hub app's StackSet ({@link spokeStackSetTemplate}, service-managed, auto-deployed to every
 * account of the given organizational units). In the StackSet one template serves every account,
 * so each profile's roles carry a condition on `AWS::AccountId`: only the accounts the profile names
 * get them.
 */
import {
  App,
  Aws,
  BootstraplessSynthesizer,
  CfnCondition,
  CfnParameter,
  type CfnResource,
  Fn,
  type ICfnConditionExpression,
  Stack,
  type StackProps,
  Token,
} from 'aws-cdk-lib';
import { AccountRootPrincipal, type CfnRole, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../../functions/config/env.js';
import { SPOKE_MANAGER_ROLE_NAME, SPOKE_MANAGER_ROLE_PATH } from '../../functions/domain/accounts.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import { IAM_PATH, type ProtectedResource } from '../protected-resources.js';
import { FORWARD_RULE_NAME, SpokeActivityForwarder } from './activity-capture.js';
import { ProfileRoles } from './profile-roles.js';

/** What the manager role may do, on `role/breakglass/profile/*` of its account only. */
export const SPOKE_MANAGER_ACTIONS = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
] as const;

/** Every account the profiles name (spokes, and the hub when a profile names it). */
export function accountsNamed(set: ProfileSet): string[] {
  return [...new Set(set.profiles.flatMap((p) => p.accounts ?? []))].sort();
}

/** The profiles that grant in `account`: those naming it, and (for the hub) those naming no account. */
export function profilesGrantingIn(set: ProfileSet, account: string, hubAccount?: string): ProfileSet {
  return {
    profiles: set.profiles.filter((p) =>
      p.accounts ? p.accounts.includes(account) : hubAccount !== undefined && account === hubAccount,
    ),
  };
}

export interface BreakGlassSpokeProps {
  /** The whole profile file: the spoke takes the profiles that grant in its account. */
  readonly profiles: ProfileSet;
  /** The hub's lifecycle function roles: the only principals the manager role trusts. A list token (StackSet parameter) is accepted. */
  readonly lifecycleRoleArns: readonly string[];
  /** The hub's credential function role: the only principal the profile roles trust. */
  readonly credentialRoleArn: string;
  /** The hub's protected resources: the pools are sized from them, so the spoke holds every role the hub picks. */
  readonly hubProtectedResources: readonly ProtectedResource[];
  /**
   * The account this spoke is in. @default the stack's account; when that is unresolved (a StackSet
   * template), each profile's roles are conditioned on `AWS::AccountId` being one of its accounts.
   */
  readonly account?: string;
  /**
   * The hub's activity bus (output `SpokeActivityBusArn`): this account's break-glass sessions' calls
   * are forwarded there (action logging). @default no forwarding
   */
  readonly activityBusArn?: string;
}

export class BreakGlassSpoke extends Construct {
  readonly managerRole: Role;
  readonly profileRoles: ProfileRoles;
  /** Action logging's forwarder, when an activity bus is given and a profile grants here. */
  readonly activity?: SpokeActivityForwarder;

  constructor(scope: Construct, id: string, props: BreakGlassSpokeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const account = props.account ?? stack.account;
    const fixed = !Token.isUnresolved(account);
    const profiles: ProfileSet = fixed
      ? profilesGrantingIn(props.profiles, account)
      : { profiles: props.profiles.profiles.filter((p) => p.accounts?.length) };

    // The manager role: trusted by the hub's lifecycle roles only, and only for AssumeRole.
    this.managerRole = new Role(this, 'ManagerRole', {
      roleName: SPOKE_MANAGER_ROLE_NAME,
      path: SPOKE_MANAGER_ROLE_PATH,
      description: 'break-glass spoke: the hub writes and removes grant policies on the profile roles of this account',
      // Replaced below by the exact trust (the hub's lifecycle roles); Role needs a principal to start from.
      assumedBy: new AccountRootPrincipal(),
    });
    (this.managerRole.node.defaultChild as CfnRole).assumeRolePolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'HubLifecycleFunctionsOnly',
          Effect: 'Allow',
          Principal: { AWS: props.lifecycleRoleArns },
          Action: 'sts:AssumeRole',
        },
      ],
    };
    this.managerRole.addToPolicy(
      new PolicyStatement({
        actions: [...SPOKE_MANAGER_ACTIONS],
        resources: [`arn:${stack.partition}:iam::${stack.account}:role${PROFILE_ROLE_PATH}*`],
      }),
    );
    NagSuppressions.addResourceSuppressions(
      this.managerRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: `The hub writes a grant's inline policy on the profile role its slot picks; the actions are limited to inline policies of roles under ${PROFILE_ROLE_PATH}, which only the spoke creates.`,
        },
      ],
      true,
    );

    // The profile roles of the profiles that grant here, trusting the hub's credential function only.
    const credentialRole = Role.fromRoleArn(this, 'HubCredentialRole', props.credentialRoleArn, { mutable: false });
    this.profileRoles = new ProfileRoles(this, 'ProfileRoles', {
      profiles,
      protectedResources: props.hubProtectedResources,
      credentialRole,
      // A grant in this account may not touch break-glass's own roles and policies here, nor the rule that
      // forwards its calls to the hub (any Region: a rule is regional, the boundary is not).
      boundaryDenies: [
        `arn:${stack.partition}:iam::${stack.account}:role${IAM_PATH}*`,
        `arn:${stack.partition}:iam::${stack.account}:policy${IAM_PATH}*`,
        `arn:${stack.partition}:events:*:${stack.account}:rule/${FORWARD_RULE_NAME}`,
      ],
    });
    if (props.activityBusArn && profiles.profiles.length) {
      this.activity = new SpokeActivityForwarder(this, 'Activity', {
        busArn: props.activityBusArn,
        // One template for every account: the forwarder only where some profile grants.
        ...(fixed
          ? {}
          : {
              condition: new CfnCondition(this, 'GrantsHere', {
                expression: anyAccount([...new Set(profiles.profiles.flatMap((p) => p.accounts ?? []))].sort()),
              }),
            }),
      });
    }
    if (!fixed) {
      // One template for every account: a profile's roles and boundary exist only in the accounts it names.
      for (const profile of profiles.profiles) {
        const condition = new CfnCondition(this, `In-${profile.name}`, {
          expression: anyAccount(profile.accounts ?? []),
        });
        for (const child of this.profileRoles.node.findAll()) {
          const resource = child as CfnResource;
          if (!resource.cfnOptions) continue;
          const path = child.node.path;
          if (
            path.includes(`/Boundary-${profile.name}/`) ||
            /\/breakglass-(.+)-\d+\/Resource$/.exec(path)?.[1] === profile.name
          )
            resource.cfnOptions.condition = condition;
        }
      }
    }
  }
}

/** `AWS::AccountId` is one of `accounts` (Fn::Or takes 2 to 10 conditions: nested for more). */
function anyAccount(accounts: readonly string[]): ICfnConditionExpression {
  const equals = accounts.map((a) => Fn.conditionEquals(Aws.ACCOUNT_ID, a));
  const or = (items: ICfnConditionExpression[]): ICfnConditionExpression => {
    if (items.length === 1) return items[0]!;
    if (items.length <= 10) return Fn.conditionOr(...items);
    const groups: ICfnConditionExpression[] = [];
    for (let i = 0; i < items.length; i += 10) groups.push(or(items.slice(i, i + 10)));
    return or(groups);
  };
  return or(equals);
}

export interface BreakGlassSpokeStackProps extends StackProps {
  readonly profiles: ProfileSet;
  readonly lifecycleRoleArns: readonly string[];
  readonly credentialRoleArn: string;
  readonly hubProtectedResources: readonly ProtectedResource[];
  /** @default no forwarding of this account's break-glass sessions' calls (see BreakGlassSpokeProps) */
  readonly activityBusArn?: string;
}

/** One spoke as its own stack, deployed into the spoke account (`cdk deploy BreakGlassSpoke-<account>`). */
export class BreakGlassSpokeStack extends Stack {
  readonly spoke: BreakGlassSpoke;
  constructor(scope: Construct, id: string, props: BreakGlassSpokeStackProps) {
    super(scope, id, props);
    this.spoke = new BreakGlassSpoke(this, 'Spoke', props);
  }
}

/** Parameters of the StackSet template, filled by the hub stack that creates the StackSet. */
export const SPOKE_PARAMETERS = {
  lifecycleRoleArns: 'HubLifecycleRoleArns',
  credentialRoleArn: 'HubCredentialRoleArn',
  activityBusArn: 'HubActivityBusArn',
} as const;

/**
 * The StackSet's template: a spoke for any account (account-conditioned profile roles), its hub role
 * ARNs as parameters. Synthesized in its own app without bootstrap resources: member accounts of an
 * OU are not CDK-bootstrapped.
 */
export function spokeStackSetTemplate(profiles: ProfileSet, hubProtectedResources: readonly ProtectedResource[]) {
  const app = new App();
  const stack = new Stack(app, 'BreakGlassSpokeTemplate', { synthesizer: new BootstraplessSynthesizer() });
  const lifecycle = new CfnParameter(stack, SPOKE_PARAMETERS.lifecycleRoleArns, {
    type: 'CommaDelimitedList',
    description: "The hub's lifecycle function role ARNs (the only principals the manager role trusts)",
  });
  const credential = new CfnParameter(stack, SPOKE_PARAMETERS.credentialRoleArn, {
    type: 'String',
    description: "The hub's credential function role ARN (the only principal the profile roles trust)",
  });
  const activityBus = new CfnParameter(stack, SPOKE_PARAMETERS.activityBusArn, {
    type: 'String',
    description:
      "The hub's activity bus ARN (output SpokeActivityBusArn): where this account's break-glass sessions' calls go",
    allowedPattern: '^arn:[\\w-]+:events:[a-z0-9-]+:\\d{12}:event-bus/[\\w.-]+$',
  });
  new BreakGlassSpoke(stack, 'Spoke', {
    profiles,
    lifecycleRoleArns: lifecycle.valueAsList,
    credentialRoleArn: credential.valueAsString,
    hubProtectedResources,
    account: Aws.ACCOUNT_ID,
    activityBusArn: activityBus.valueAsString,
  });
  return app.synth().getStackByName(stack.stackName).template as Record<string, unknown>;
}

/** Above this many spoke accounts, the hub's AssumeRole statements name the role in any account (policy size). */
export const MAX_LISTED_SPOKES = 40;

/**
 * The hub's side of the trust: the lifecycle functions may assume the spokes' manager role and
 * nothing else across accounts; the credential function may assume the spokes' profile roles (with
 * a source identity). Every function that names a grant learns the hub's account and the aliases.
 * Up to {@link MAX_LISTED_SPOKES} spokes the statements list each account's ARN; beyond, one ARN with
 * `*` for the account (an identity policy is capped at 10,240 characters): still only that role name
 * under `/breakglass/`, which only the spokes create.
 */
export function grantHubSpokeAccess(options: {
  readonly stack: Stack;
  readonly profiles: ProfileSet;
  readonly lifecycle: ReadonlyArray<{
    fn: { addToRolePolicy(s: PolicyStatement): void };
    addEnvironment(k: string, v: string): unknown;
  }>;
  readonly credentials: {
    fn: { addToRolePolicy(s: PolicyStatement): void };
    addEnvironment(k: string, v: string): unknown;
  };
  readonly readers: ReadonlyArray<{ addEnvironment(k: string, v: string): unknown }>;
  readonly accountAliases?: Readonly<Record<string, string>>;
}): { spokes: string[] } {
  const { stack } = options;
  const spokes = accountsNamed(options.profiles).filter(
    (a) => Token.isUnresolved(stack.account) || a !== stack.account,
  );
  const aliases = JSON.stringify(options.accountAliases ?? {});
  for (const f of [...options.lifecycle, options.credentials, ...options.readers]) {
    f.addEnvironment(ENV.accountId, stack.account);
    f.addEnvironment(ENV.accountAliases, aliases);
  }
  if (!spokes.length) return { spokes };
  const accounts = spokes.length > MAX_LISTED_SPOKES ? ['*'] : spokes;
  const manager = accounts.map(
    (a) => `arn:${stack.partition}:iam::${a}:role${SPOKE_MANAGER_ROLE_PATH}${SPOKE_MANAGER_ROLE_NAME}`,
  );
  for (const f of options.lifecycle)
    f.fn.addToRolePolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: manager }));
  options.credentials.fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      resources: accounts.map((a) => `arn:${stack.partition}:iam::${a}:role${PROFILE_ROLE_PATH}*`),
    }),
  );
  for (const f of [options.credentials, ...(accounts[0] === '*' ? options.lifecycle : [])]) {
    const role = (f.fn as { role?: IConstruct }).role;
    if (role)
      NagSuppressions.addResourceSuppressions(
        role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `Spoke grants are vended from the profile roles of the spoke accounts (${PROFILE_ROLE_PATH}*, names derived from the profiles), and above ${MAX_LISTED_SPOKES} spokes the manager role is named in any account; only the spokes create roles under these paths.`,
            appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:iam::.+:role\\/breakglass\\/.*$/' }],
          },
        ],
        true,
      );
  }
  return { spokes };
}
