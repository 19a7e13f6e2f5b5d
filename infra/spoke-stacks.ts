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
 *
 * The template goes inline (`TemplateBody`) up to {@link STACK_SET_TEMPLATE_BODY_LIMIT} bytes, and as
 * a file asset of this stack (`TemplateURL`, published to the CDK bootstrap bucket by `cdk deploy`,
 * the cdk-stacksets pattern) above: many accounts per profile make it grow by one `Fn::Equals` per
 * account. Inline while it fits, so the StackSet stays readable in the synthesized template and its
 * creation reads nothing from a bucket; the switch is made at synth, and both forms are tested.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnStackSet, Stack, type StackProps, Stage } from 'aws-cdk-lib';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { ProfileSet } from '../functions/domain/profile.js';
import { SPOKE_PARAMETERS, spokeStackSetTemplate } from './constructs/break-glass-spoke.js';
import { type ProtectedResource, SPOKE_STACK_SET_NAME } from './protected-resources.js';

export { SPOKE_STACK_SET_NAME } from './protected-resources.js';

/**
 * CreateStackSet's `TemplateBody`: "a minimum length of 1 byte and a maximum length of 51,200 bytes …
 * Conditional: You must specify either the TemplateBody or the TemplateURL parameter, but not both"
 * (CloudFormation API reference, CreateStackSet).
 */
export const STACK_SET_TEMPLATE_BODY_LIMIT = 51_200;
/** CreateStackSet's `TemplateURL`: "The URL must point to a template (maximum size: 460,800 bytes) that's located in an Amazon S3 bucket" (same page). */
export const STACK_SET_TEMPLATE_URL_LIMIT = 460_800;

export interface SpokeStackSetProps extends StackProps {
  readonly profiles: ProfileSet;
  readonly organizationalUnits: readonly string[];
  readonly region: string;
  readonly lifecycleRoleArns: readonly string[];
  readonly credentialRoleArn: string;
  readonly hubProtectedResources: readonly ProtectedResource[];
  /** The hub's activity bus: each spoke forwards its break-glass sessions' calls there (activity-capture.ts). */
  readonly activityBusArn: string;
  /** `SELF` from the management account, `DELEGATED_ADMIN` from a delegated administrator. @default 'SELF' */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
}

export class BreakGlassSpokeStackSetStack extends Stack {
  readonly stackSet: CfnStackSet;
  /** How the template reaches CloudFormation: inline, or a file asset in S3 (above {@link STACK_SET_TEMPLATE_BODY_LIMIT}). */
  readonly templateDelivery: 'inline' | 'asset';
  /** The template's size in bytes (UTF-8, as sent). */
  readonly templateBytes: number;
  /** The asset holding the template, when it is too large to go inline. */
  readonly templateAsset?: Asset;
  constructor(scope: Construct, id: string, props: SpokeStackSetProps) {
    super(scope, id, props);
    for (const ou of props.organizationalUnits)
      if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou))
        throw new Error(
          `-c spokeOrganizationalUnits: "${ou}" is not an organizational unit id (ou-…) or root id (r-…)`,
        );
    const body = JSON.stringify(spokeStackSetTemplate(props.profiles, props.hubProtectedResources));
    this.templateBytes = Buffer.byteLength(body, 'utf8');
    if (this.templateBytes > STACK_SET_TEMPLATE_URL_LIMIT)
      throw new Error(
        `The spoke StackSet template is ${this.templateBytes} bytes, over CloudFormation's ${STACK_SET_TEMPLATE_URL_LIMIT} for a StackSet template in S3: split the profiles that name the most accounts`,
      );
    this.templateDelivery = this.templateBytes > STACK_SET_TEMPLATE_BODY_LIMIT ? 'asset' : 'inline';
    if (this.templateDelivery === 'asset') {
      // Written into the cloud assembly's own directory (not a shared temp path), named by its content, and kept:
      // with asset staging disabled, the asset manifest points at this file itself.
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const outdir = Stage.of(this)?.outdir ?? mkdtempSync(join(tmpdir(), 'breakglass-'));
      mkdirSync(outdir, { recursive: true });
      const file = join(outdir, `breakglass-spoke-template-${hash}.json`);
      writeFileSync(file, body);
      this.templateAsset = new Asset(this, 'SpokeTemplate', { path: file });
    }
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
        { parameterKey: SPOKE_PARAMETERS.activityBusArn, parameterValue: props.activityBusArn },
      ],
      ...(this.templateAsset ? { templateUrl: this.templateAsset.httpUrl } : { templateBody: body }),
    });
  }
}
