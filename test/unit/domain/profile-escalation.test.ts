/**
 * Well-known IAM privilege-escalation and persistence sets (Rhino Security Labs' methods,
 * pathfinding.cloud, and what would switch off break-glass itself), each allowed on "*".
 * Each must be refused unless its risk classes are acknowledged; the "*"-style and persistence
 * ones are refused whatever is acknowledged.
 */
import { describe, expect, it } from 'vitest';
import { ProfileConfigError } from '../../../functions/domain/errors.js';
import { parseProfiles, RISK_CLASSES, type RiskClass } from '../../../functions/domain/profile.js';
import { iamRiskCheck } from '../../../profiles/iam-catalog.js';

const risks = iamRiskCheck();
const ACK = 'accepted by the security team for incident work';

type Case = readonly [name: string, actions: readonly string[], classes: readonly RiskClass[] | 'always'];

const RP: RiskClass = 'role-passing';
const CE: RiskClass = 'code-execution';
const CC: RiskClass = 'credential-creation';
const PM: RiskClass = 'permissions-management';
const RW: RiskClass = 'resource-policy-write';
const OI: RiskClass = 'organization-identity';
const AT: RiskClass = 'audit-tampering';

const CASES: readonly Case[] = [
  // Passing a role to new compute: the compute runs with the role.
  ['PassRole + Lambda create + invoke', ['iam:PassRole', 'lambda:CreateFunction', 'lambda:InvokeFunction'], [RP, CE]],
  [
    'PassRole + Lambda create + event source',
    ['iam:PassRole', 'lambda:CreateFunction', 'lambda:CreateEventSourceMapping'],
    [RP, CE],
  ],
  ['PassRole + EC2 RunInstances', ['iam:PassRole', 'ec2:RunInstances'], [RP, CE]],
  ['PassRole + CloudFormation CreateStack', ['iam:PassRole', 'cloudformation:CreateStack'], [RP, CE]],
  ['PassRole + Glue dev endpoint', ['iam:PassRole', 'glue:CreateDevEndpoint'], [RP, CE]],
  ['PassRole + Glue job', ['iam:PassRole', 'glue:CreateJob', 'glue:StartJobRun'], [RP, CE]],
  [
    'PassRole + Data Pipeline',
    [
      'iam:PassRole',
      'datapipeline:CreatePipeline',
      'datapipeline:PutPipelineDefinition',
      'datapipeline:ActivatePipeline',
    ],
    [RP, CE],
  ],
  ['PassRole + ECS task', ['iam:PassRole', 'ecs:RegisterTaskDefinition', 'ecs:RunTask'], [RP, CE]],
  [
    'PassRole + SageMaker notebook',
    ['iam:PassRole', 'sagemaker:CreateNotebookInstance', 'sagemaker:CreatePresignedNotebookInstanceUrl'],
    [RP, CE],
  ],
  ['PassRole + SageMaker training job', ['iam:PassRole', 'sagemaker:CreateTrainingJob'], [RP, CE]],
  ['PassRole + SageMaker processing job', ['iam:PassRole', 'sagemaker:CreateProcessingJob'], [RP, CE]],
  ['PassRole + CodeBuild project', ['iam:PassRole', 'codebuild:CreateProject', 'codebuild:StartBuild'], [RP, CE]],
  ['PassRole + App Runner', ['iam:PassRole', 'apprunner:CreateService'], [RP, CE]],
  [
    'PassRole + Auto Scaling',
    ['iam:PassRole', 'autoscaling:CreateLaunchConfiguration', 'autoscaling:CreateAutoScalingGroup'],
    [RP, CE],
  ],
  ['PassRole + spot instances', ['iam:PassRole', 'ec2:RequestSpotInstances'], [RP, CE]],
  ['PassRole + Step Functions', ['iam:PassRole', 'states:CreateStateMachine', 'states:StartExecution'], [RP, CE]],
  ['PassRole + Batch', ['iam:PassRole', 'batch:RegisterJobDefinition', 'batch:SubmitJob'], [RP, CE]],
  ['PassRole + EMR', ['iam:PassRole', 'elasticmapreduce:RunJobFlow'], [RP, CE]],
  ['PassRole + Lambda configuration', ['iam:PassRole', 'lambda:UpdateFunctionConfiguration'], [RP, CE]],
  ['PassRole + instance profile association', ['iam:PassRole', 'ec2:AssociateIamInstanceProfile'], [RP]],
  // Running code in existing compute, with its role.
  ['Lambda UpdateFunctionCode', ['lambda:UpdateFunctionCode'], [CE]],
  ['Lambda UpdateFunctionConfiguration (layers)', ['lambda:UpdateFunctionConfiguration'], [CE]],
  ['Lambda invoke of any function (break-glass’s own with a forged event)', ['lambda:InvokeFunction'], [CE]],
  ['Glue UpdateDevEndpoint', ['glue:UpdateDevEndpoint'], [CE]],
  ['Glue UpdateJob + StartJobRun', ['glue:UpdateJob', 'glue:StartJobRun'], [CE]],
  ['SSM SendCommand', ['ssm:SendCommand'], [CE]],
  ['SSM StartSession', ['ssm:StartSession'], [CE]],
  ['SSM automation', ['ssm:StartAutomationExecution'], [CE]],
  ['EC2 user data', ['ec2:ModifyInstanceAttribute', 'ec2:StopInstances', 'ec2:StartInstances'], [CE]],
  ['ECS ExecuteCommand', ['ecs:ExecuteCommand'], [CE]],
  ['CodeBuild buildspec override', ['codebuild:StartBuild'], [CE]],
  ['SageMaker existing notebook', ['sagemaker:CreatePresignedNotebookInstanceUrl'], [CE]],
  ['CloudFormation UpdateStack (the stack’s role)', ['cloudformation:UpdateStack'], [CE]],
  ['CloudFormation change sets', ['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet'], [CE]],
  // Assuming roles.
  ['STS AssumeRole', ['sts:AssumeRole'], [RP]],
  ['STS everything', ['sts:*'], [RP, CC]],
  ['STS AssumeRoot', ['sts:AssumeRoot'], [RP]],
  ['Instance profile with a role', ['iam:CreateInstanceProfile', 'iam:AddRoleToInstanceProfile'], [RP, PM]],
  // Credentials that outlive the grant.
  ['Service-specific credential', ['iam:CreateServiceSpecificCredential'], [CC]],
  ['Service-specific credential reset', ['iam:ResetServiceSpecificCredential'], [CC]],
  ['Reactivate an access key', ['iam:UpdateAccessKey'], [CC]],
  ['SSH public key for CodeCommit', ['iam:UploadSSHPublicKey'], [CC]],
  ['Signing certificate', ['iam:UploadSigningCertificate'], [CC]],
  ['Own MFA device on another user', ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice'], [CC]],
  ['Remove a user’s MFA', ['iam:DeactivateMFADevice'], [CC]],
  ['OIDC provider (federation trust)', ['iam:CreateOpenIDConnectProvider'], [CC]],
  ['SAML provider (federation trust)', ['iam:CreateSAMLProvider'], [CC]],
  ['Federation token', ['sts:GetFederationToken'], [CC]],
  ['EC2 Instance Connect key', ['ec2-instance-connect:SendSSHPublicKey'], [CC]],
  ['Cognito user password', ['cognito-idp:AdminSetUserPassword'], [CC]],
  // Permissions management.
  ['Remove a role’s permissions boundary', ['iam:DeleteRolePermissionsBoundary'], [PM]],
  ['Remove a user’s permissions boundary', ['iam:DeleteUserPermissionsBoundary'], [PM]],
  ['Replace a role’s permissions boundary', ['iam:PutRolePermissionsBoundary'], [PM]],
  ['Create a role', ['iam:CreateRole'], [PM]],
  ['Detach a restricting policy', ['iam:DetachUserPolicy', 'iam:DetachRolePolicy'], [PM]],
  ['Create a managed policy', ['iam:CreatePolicy'], [PM]],
  // Resource policies.
  ['S3 bucket policy', ['s3:PutBucketPolicy'], [RW]],
  ['S3 bucket ACL', ['s3:PutBucketAcl'], [RW]],
  ['KMS key policy', ['kms:PutKeyPolicy'], [RW]],
  ['KMS grant', ['kms:CreateGrant'], [RW]],
  ['Lambda resource policy', ['lambda:AddPermission'], [RW]],
  ['SNS topic policy', ['sns:SetTopicAttributes', 'sns:AddPermission'], [RW]],
  ['SQS queue policy', ['sqs:SetQueueAttributes'], [RW]],
  ['Secrets Manager resource policy', ['secretsmanager:PutResourcePolicy'], [RW]],
  ['ECR repository policy', ['ecr:SetRepositoryPolicy'], [RW]],
  ['EventBridge bus permission', ['events:PutPermission'], [RW]],
  ['EBS snapshot sharing', ['ec2:ModifySnapshotAttribute'], [RW]],
  ['CloudWatch Logs resource policy', ['logs:PutResourcePolicy'], [RW]],
  // Organization and workforce identity.
  ['Organizations everything', ['organizations:*'], [OI]],
  ['IAM Identity Center everything', ['sso:*'], [OI]],
  ['Identity store everything', ['identitystore:*'], [OI]],
  ['Identity Center directory everything', ['sso-directory:*'], [OI]],
  ['Leave the organization (and its SCPs)', ['organizations:LeaveOrganization'], [OI]],
  ['Account assignment', ['sso:CreateAccountAssignment', 'sso:CreatePermissionSet'], [OI]],
  // Switching off the record, or break-glass itself.
  ['DynamoDB everything (the grants table)', ['dynamodb:*'], [AT]],
  ['DynamoDB item deletes and updates on any table', ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'], [AT]],
  ['Disable the expiry rules', ['events:DisableRule'], [AT]],
  ['Delete rules and targets', ['events:DeleteRule', 'events:RemoveTargets'], [AT]],
  ['Delete the expiry schedules', ['scheduler:DeleteSchedule'], [AT]],
  ['Throttle break-glass’s functions to zero', ['lambda:PutFunctionConcurrency'], [AT]],
  ['CloudTrail StopLogging', ['cloudtrail:StopLogging'], [AT]],
  ['CloudTrail DeleteTrail', ['cloudtrail:DeleteTrail'], [AT]],
  ['CloudTrail UpdateTrail', ['cloudtrail:UpdateTrail'], [AT]],
  ['Delete log groups', ['logs:DeleteLogGroup'], [AT]],
  ['Shorten log retention', ['logs:PutRetentionPolicy'], [AT]],
  ['GuardDuty DeleteDetector', ['guardduty:DeleteDetector'], [AT]],
  ['GuardDuty UpdateDetector', ['guardduty:UpdateDetector'], [AT]],
  ['Config recorder stop', ['config:StopConfigurationRecorder'], [AT]],
  ['Security Hub disable', ['securityhub:DisableSecurityHub'], [AT]],
  ['Unsubscribe the alert e-mail', ['sns:Unsubscribe'], [AT]],
  ['Schedule deletion of a key', ['kms:ScheduleKeyDeletion'], [AT]],
  // Refused whatever is acknowledged: "*"-style and the persistence list.
  ['everything', ['*'], 'always'],
  ['every service', ['*:*'], 'always'],
  ['all of IAM', ['iam:*'], 'always'],
  ['iam:Put*', ['iam:Put*'], 'always'],
  ['CreatePolicyVersion', ['iam:CreatePolicyVersion'], 'always'],
  ['SetDefaultPolicyVersion', ['iam:SetDefaultPolicyVersion'], 'always'],
  ['CreateAccessKey', ['iam:CreateAccessKey'], 'always'],
  ['CreateLoginProfile', ['iam:CreateLoginProfile'], 'always'],
  ['UpdateLoginProfile', ['iam:UpdateLoginProfile'], 'always'],
  ['AttachUserPolicy', ['iam:AttachUserPolicy'], 'always'],
  ['AttachGroupPolicy', ['iam:AttachGroupPolicy'], 'always'],
  ['AttachRolePolicy + AssumeRole', ['iam:AttachRolePolicy', 'sts:AssumeRole'], 'always'],
  ['PutUserPolicy', ['iam:PutUserPolicy'], 'always'],
  ['PutGroupPolicy', ['iam:PutGroupPolicy'], 'always'],
  ['PutRolePolicy + AssumeRole', ['iam:PutRolePolicy', 'sts:AssumeRole'], 'always'],
  ['AddUserToGroup', ['iam:AddUserToGroup'], 'always'],
  ['UpdateAssumeRolePolicy + AssumeRole', ['iam:UpdateAssumeRolePolicy', 'sts:AssumeRole'], 'always'],
  ['CreateUser', ['iam:CreateUser'], 'always'],
];

const profileFile = (actions: readonly string[], acks: readonly string[] = []) => ({
  version: 1,
  profiles: [
    {
      name: 'escalation',
      description: 'd',
      owner: 'team@example.com',
      maxDurationMinutes: 60,
      eligible: ['arn:aws:iam::123456789012:role/Responder'],
      statements: [{ actions, resources: ['*'] }],
      ...(acks.length ? { acknowledgedRisks: Object.fromEntries(acks.map((c) => [c, ACK])) } : {}),
    },
  ],
});

function refusal(input: unknown): string | undefined {
  try {
    parseProfiles(input, 'test', risks);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileConfigError);
    return (error as Error).message;
  }
}

/** The classes a refusal says are not acknowledged. */
const unacknowledged = (message: string) =>
  [...message.matchAll(/risk class "([a-z-]+)" is not acknowledged/g)].map((m) => m[1]!).sort();

describe('well-known escalation and persistence sets on "*"', () => {
  it(`covers ${CASES.length} sets`, () => expect(CASES.length).toBeGreaterThanOrEqual(71));

  it.each(CASES.filter((c) => c[2] !== 'always'))(
    '%s: refused naming its classes, accepted when they are acknowledged',
    (_name, actions, classes) => {
      // Prepare
      const expected = [...(classes as RiskClass[])].sort();
      // Act
      const message = refusal(profileFile(actions));
      // Assess
      expect(message).toBeDefined();
      expect(unacknowledged(message!)).toEqual(expected);
      expect(message).not.toMatch(/over-broad/);
      expect(refusal(profileFile(actions, expected))).toBeUndefined();
    },
  );

  it.each(CASES.filter((c) => c[2] === 'always'))(
    '%s: refused even with every class it reaches acknowledged',
    (_name, actions) => {
      const first = refusal(profileFile(actions));
      expect(first).toBeDefined();
      const reached = unacknowledged(first!).filter((c) => c in RISK_CLASSES);
      const message = refusal(profileFile(actions, reached));
      expect(message).toBeDefined();
      expect(message).toMatch(/over-broad|an action is "service:Action"/);
      expect(unacknowledged(message!)).toEqual([]);
    },
  );
});
