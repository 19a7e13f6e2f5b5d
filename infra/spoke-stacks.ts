/**
 * The hub app's spoke stacks (docs/many-accounts.md):
 * - {@link BreakGlassSpokeStackSetStack}: a CloudFormation StackSet with service-managed permissions
 *   and automatic deployment over organizational units (`-c spokeOrganizationalUnits=ou-…`), so an
 *   account that joins one of them gets its spoke without anyone deploying it. "With service-managed
 *   permissions, you can deploy stack instances to accounts managed by AWS Organizations … StackSets
 *   automatically deploys to accounts that are added to the target organization or organizational
 *   unit" when automatic deployment is on (CloudFormation User Guide, "Create StackSets with
 *   service-managed permissions"; API: AutoDeployment, "Valid only if the StackSet uses
 *   service-managed permissions"). It is created from the management account or a delegated
 *   administrator (`-c stackSetCallAs=DELEGATED_ADMIN`).
 * - one {@link BreakGlassSpokeStack} per account listed in `-c spokeAccounts=…`, for teams that deploy
 *   CDK per account.
 *
 * IAM is global: the StackSet deploys to one region only (`-c spokeRegion`, default the hub's).
 */
import { CfnStackSet, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ProfileSet } from '../functions/domain/profile.js';
import { SPOKE_PARAMETERS, spokeStackSetTemplate } from './constructs/break-glass-spoke.js';
import { type ProtectedResource, SPOKE_STACK_SET_NAME } from './protected-resources.js';

export { SPOKE_STACK_SET_NAME } from './protected-resources.js';

export interface SpokeStackSetProps extends StackProps {
  readonly profiles: ProfileSet;
  readonly organizationalUnits: readonly string[];
  readonly region: string;
  readonly lifecycleRoleArns: readonly string[];
  readonly credentialRoleArn: string;
  readonly hubProtectedResources: readonly ProtectedResource[];
  /** `SELF` from the management account, `DELEGATED_ADMIN` from a delegated administrator. @default 'SELF' */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
}

export class BreakGlassSpokeStackSetStack extends Stack {
  readonly stackSet: CfnStackSet;
  constructor(scope: Construct, id: string, props: SpokeStackSetProps) {
    super(scope, id, props);
    for (const ou of props.organizationalUnits)
      if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou))
        throw new Error(
          `-c spokeOrganizationalUnits: "${ou}" is not an organizational unit id (ou-…) or root id (r-…)`,
        );
    this.stackSet = new CfnStackSet(this, 'Spokes', {
      stackSetName: SPOKE_STACK_SET_NAME,
      description: 'break-glass spokes: the manager role and the profile roles of each member account',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: props.callAs ?? 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...props.organizationalUnits] },
          regions: [props.region],
        },
      ],
      parameters: [
        { parameterKey: SPOKE_PARAMETERS.lifecycleRoleArns, parameterValue: props.lifecycleRoleArns.join(',') },
        { parameterKey: SPOKE_PARAMETERS.credentialRoleArn, parameterValue: props.credentialRoleArn },
      ],
      templateBody: JSON.stringify(spokeStackSetTemplate(props.profiles, props.hubProtectedResources)),
    });
  }
}
