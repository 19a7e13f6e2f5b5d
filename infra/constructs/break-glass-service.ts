/**
 * The stateless half: one function per handler, the IAM-authorized REST API, the schedule
 * group and the role Scheduler uses, the daily jobs (review check, table export), and the
 * alarms. Everything here can be destroyed and redeployed without losing a record.
 */
import { AUDIT_QUERY_PARAMETERS } from '../../functions/domain/query-audit.js';
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  JsonSchemaType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  type IModel,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Rule, Schedule as EventSchedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { IndexName } from '../../functions/adapters/table-schema.js';
import { EXPORT_PREFIX } from '../../functions/domain/export-audit.js';
import { REVIEW_OUTCOMES } from '../../functions/domain/grant.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { REASON_MAX, TICKET_MAX } from '../../functions/domain/requests.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../../functions/domain/review-check.js';
import { policyTargets } from '../profiles.js';
import { BreakGlassFunction, TABLE_READ, TABLE_REVIEW, TABLE_WRITE } from './breakglass-function.js';

/** The indexes `GET /audit` reads (`DynamoAuditLog.queryEvents`). */
export const AUDIT_EVENT_INDEXES: readonly IndexName[] = ['eventsByRequester', 'eventsByProfile', 'eventsByType', 'eventsByDay'];
/** The index the daily review check reads (`DynamoAuditLog.reviewsDue`). */
export const REVIEW_DUE_INDEXES: readonly IndexName[] = ['byReviewDue'];

export interface BreakGlassServiceProps {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly expiryDeadLetterQueue: IQueue;
  /** The audit bucket: the daily export writes under `exports/` of it. */
  readonly auditBucket: IBucket;
  /** The profile file as read (inlined into the bundles) and as validated. */
  readonly profiles: { readonly raw: unknown; readonly set: ProfileSet };
  /** ARN patterns of the principals who may revoke any grant. @default none: only requesters revoke */
  readonly securityPrincipals?: readonly string[];
  /**
   * ARN patterns of the principals who may review ended grants (never their own). Synth fails
   * when this list, after the default, is empty: every review would be refused.
   * @default securityPrincipals
   */
  readonly reviewerPrincipals?: readonly string[];
  /** Days after a grant ends before the daily check announces its missing review (more than 0, at most 365). @default 3 */
  readonly reviewDeadlineDays?: number;
  /** Accept wildcard role/user names in eligibility (wider IAM write scope). @default false */
  readonly allowBroadEligibility?: boolean;
  /** Profiles whose activations are frozen by configuration (`*` for all): the kill switch without the API. @default none */
  readonly frozenProfiles?: readonly string[];
  /** ACTIVE grants one principal may hold at once. @default 3 */
  readonly maxActivePerPrincipal?: number;
  /** @default 'breakglass' */
  readonly scheduleGroupName?: string;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Stage throttling. @default { rateLimit: 10, burstLimit: 20 } */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
}

export class BreakGlassService extends Construct {
  readonly api: RestApi;
  readonly functions: Readonly<
    Record<
      'createGrant' | 'revokeGrant' | 'extendGrant' | 'expireGrant' | 'getGrant' | 'listGrants' | 'listProfiles' | 'killSwitch' | 'sweeper' | 'reviewGrant' | 'queryAudit' | 'checkReviews' | 'exportTable',
      BreakGlassFunction
    >
  >;
  readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: BreakGlassServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Configuration mistakes fail synth, before anything is built.
    const reviewers = [...(props.reviewerPrincipals ?? props.securityPrincipals ?? [])];
    if (!reviewers.length) {
      throw new Error('break-glass: no reviewer principals. Set reviewerPrincipals (-c reviewerPrincipals=<ARN patterns, comma-separated>) or securityPrincipals, which it defaults to; without one, every post-incident review would be refused.');
    }
    const reviewDeadlineDays = props.reviewDeadlineDays ?? DEFAULT_REVIEW_DEADLINE_DAYS;
    if (!(Number.isFinite(reviewDeadlineDays) && reviewDeadlineDays > 0 && reviewDeadlineDays <= 365)) {
      throw new Error(`break-glass: reviewDeadlineDays must be a number of days greater than 0 and at most 365, got ${reviewDeadlineDays}`);
    }
    const targets = policyTargets(props.profiles.set, { allowBroadEligibility: props.allowBroadEligibility ?? false });
    const groupName = props.scheduleGroupName ?? 'breakglass';
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const make = (name: string, handlerFile: string, description: string, timeout?: Duration) =>
      new BreakGlassFunction(this, name, { handlerFile, description, profiles: props.profiles.raw, logRetention, ...(timeout ? { timeout } : {}) });

    // Functions
    const expireGrant = make('ExpireGrant', 'expire-grant', 'break-glass: expire a grant (EventBridge Scheduler target)')
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const createGrant = make('CreateGrant', 'create-grant', 'break-glass: POST /grants').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const revokeGrant = make('RevokeGrant', 'revoke-grant', 'break-glass: POST /grants/{id}/revoke').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const extendGrant = make('ExtendGrant', 'extend-grant', 'break-glass: POST /grants/{id}/extend').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const killSwitch = make('KillSwitch', 'kill-switch', 'break-glass: freeze, unfreeze, revoke-all (security)', Duration.minutes(5)).useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const sweeper = make('Sweeper', 'sweep', 'break-glass: reconcile IAM with the grants table (scheduled)', Duration.minutes(4)).useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const getGrant = make('GetGrant', 'get-grant', 'break-glass: GET /grants/{id}').useTable(props.table, TABLE_READ);
    const listGrants = make('ListGrants', 'list-grants', 'break-glass: GET /grants').useTable(props.table, TABLE_READ);
    const listProfiles = make('ListProfiles', 'list-profiles', 'break-glass: GET /profiles');
    const reviewGrant = make('ReviewGrant', 'review-grant', 'break-glass: POST /grants/{id}/review')
      .useTable(props.table, TABLE_REVIEW, [])
      .useTopic(props.topic)
      .addEnvironment('REVIEWER_PRINCIPALS', reviewers.join(','));
    const queryAudit = make('QueryAudit', 'query-audit', 'break-glass: GET /audit').queryIndexes(props.table, AUDIT_EVENT_INDEXES);
    const checkReviews = make('CheckReviews', 'check-reviews', 'break-glass: announce overdue post-incident reviews (daily)', Duration.minutes(2))
      .queryIndexes(props.table, REVIEW_DUE_INDEXES)
      .useTopic(props.topic)
      .addEnvironment('REVIEW_DEADLINE_DAYS', String(reviewDeadlineDays));
    const exportTable = make('ExportTable', 'export-table', 'break-glass: export the grants table to the audit bucket (daily)').exportTableTo(props.table, props.auditBucket, EXPORT_PREFIX);
    this.functions = { createGrant, revokeGrant, extendGrant, expireGrant, getGrant, listGrants, listProfiles, killSwitch, sweeper, reviewGrant, queryAudit, checkReviews, exportTable };

    // IAM writes: only inline policies, only on the entities some profile can match.
    const policyWriters = [createGrant, extendGrant];
    const policyRemovers = [createGrant, revokeGrant, extendGrant, expireGrant, killSwitch, sweeper];
    const entityStatement = (actions: string[], kind: 'roles' | 'users') =>
      targets[kind].length ? [new PolicyStatement({ actions, resources: targets[kind] })] : [];
    for (const f of policyWriters) {
      for (const s of [...entityStatement(['iam:PutRolePolicy'], 'roles'), ...entityStatement(['iam:PutUserPolicy'], 'users')]) f.fn.addToRolePolicy(s);
    }
    for (const f of policyRemovers) {
      for (const s of [...entityStatement(['iam:DeleteRolePolicy'], 'roles'), ...entityStatement(['iam:DeleteUserPolicy'], 'users')]) f.fn.addToRolePolicy(s);
    }
    // Reading the entities' inline policies: activation sizes them (IAM's aggregate limit), the sweeper lists them.
    for (const s of [...entityStatement(['iam:ListRolePolicies', 'iam:GetRolePolicy'], 'roles'), ...entityStatement(['iam:ListUserPolicies', 'iam:GetUserPolicy'], 'users')]) createGrant.fn.addToRolePolicy(s);
    for (const s of [...entityStatement(['iam:ListRolePolicies'], 'roles'), ...entityStatement(['iam:ListUserPolicies'], 'users')]) sweeper.fn.addToRolePolicy(s);

    // Scheduler: a dedicated group, and a role that may only invoke the expiry function.
    const group = new CfnScheduleGroup(this, 'ScheduleGroup', { name: groupName });
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the break-glass expiry function, dead-letter failures',
    });
    this.schedulerRole.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [expireGrant.fn.functionArn] }));
    props.expiryDeadLetterQueue.grantSendMessages(this.schedulerRole);
    const scheduleArns = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*` });
    const schedulerActions: Array<[BreakGlassFunction, string[]]> = [
      [createGrant, ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']],
      [extendGrant, ['scheduler:UpdateSchedule']],
      [revokeGrant, ['scheduler:DeleteSchedule']],
      [killSwitch, ['scheduler:DeleteSchedule']],
      [sweeper, ['scheduler:GetSchedule', 'scheduler:CreateSchedule']],
    ];
    for (const [f, actions] of schedulerActions) {
      f.addEnvironment('SCHEDULE_GROUP', groupName)
        .addEnvironment('EXPIRY_FUNCTION_ARN', expireGrant.fn.functionArn)
        .addEnvironment('SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn)
        .addEnvironment('EXPIRY_DLQ_ARN', props.expiryDeadLetterQueue.queueArn);
      f.fn.addToRolePolicy(new PolicyStatement({ actions, resources: [scheduleArns] }));
    }
    // Creating or updating a schedule passes Scheduler its role.
    for (const f of [createGrant, extendGrant, sweeper]) {
      f.fn.addToRolePolicy(
        new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.schedulerRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } }),
      );
    }
    createGrant.fn.node.addDependency(group);
    for (const [f] of schedulerActions) {
      NagSuppressions.addResourceSuppressions(
        f.fn.role!,
        [{ id: 'AwsSolutions-IAM5', reason: 'Schedules are named by grant id at activation time; the permission is limited to the dedicated break-glass schedule group.', appliesTo: [{ regex: `/^Resource::arn:<AWS::Partition>:scheduler:.+:schedule\\/${groupName}\\/\\*$/` }] }],
        true,
      );
    }
    const security = (props.securityPrincipals ?? []).join(',');
    revokeGrant.addEnvironment('SECURITY_PRINCIPALS', security);
    killSwitch.addEnvironment('SECURITY_PRINCIPALS', security);
    for (const f of [createGrant, extendGrant, killSwitch]) {
      f.addEnvironment('FROZEN_PROFILES', (props.frozenProfiles ?? []).join(','));
      f.addEnvironment('MAX_ACTIVE_PER_PRINCIPAL', String(props.maxActivePerPrincipal ?? 3));
    }

    // The sweeper runs every five minutes; the export daily before the working day, the review check at its start (UTC).
    new Rule(this, 'SweepSchedule', { schedule: EventSchedule.rate(Duration.minutes(5)), targets: [new LambdaFunction(sweeper.fn, { retryAttempts: 2 })], description: 'break-glass: reconcile IAM with the grants table' });
    new Rule(this, 'ExportSchedule', { schedule: EventSchedule.cron({ minute: '0', hour: '2' }), targets: [new LambdaFunction(exportTable.fn, { retryAttempts: 2 })], description: 'break-glass: daily export of the grants table for auditors' });
    new Rule(this, 'ReviewCheckSchedule', { schedule: EventSchedule.cron({ minute: '0', hour: '8' }), targets: [new LambdaFunction(checkReviews.fn, { retryAttempts: 2 })], description: 'break-glass: daily reminder of overdue post-incident reviews' });

    // API: AWS_IAM on every method, validated bodies, throttled, access-logged.
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: logRetention });
    this.api = new RestApi(this, 'Api', {
      description: 'break-glass emergency access',
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: props.throttling?.rateLimit ?? 10,
        throttlingBurstLimit: props.throttling?.burstLimit ?? 20,
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true, httpMethod: true, ip: true, protocol: true, requestTime: true, resourcePath: true, responseLength: true, status: true, user: true,
        }),
      },
    });
    const bodyValidator = new RequestValidator(this, 'BodyValidator', { restApi: this.api, validateRequestBody: true, validateRequestParameters: true });
    const activationModel = this.api.addModel('Activation', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['profile', 'reason'],
        additionalProperties: false,
        properties: {
          profile: { type: JsonSchemaType.STRING, minLength: 1, maxLength: 64 },
          reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 },
          durationMinutes: { type: JsonSchemaType.INTEGER, minimum: 1 },
          ticket: { type: JsonSchemaType.STRING, maxLength: TICKET_MAX + 64 },
        },
      },
    });
    const revokeModel = this.api.addModel('Revocation', {
      contentType: 'application/json',
      schema: { type: JsonSchemaType.OBJECT, required: ['reason'], additionalProperties: false, properties: { reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 } } },
    });
    const extendModel = this.api.addModel('Extension', {
      contentType: 'application/json',
      schema: { type: JsonSchemaType.OBJECT, required: ['minutes', 'reason'], additionalProperties: false, properties: { minutes: { type: JsonSchemaType.INTEGER, minimum: 1 }, reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 } } },
    });
    const controlModel = this.api.addModel('Control', {
      contentType: 'application/json',
      schema: { type: JsonSchemaType.OBJECT, required: ['reason'], additionalProperties: false, properties: { profile: { type: JsonSchemaType.STRING, maxLength: 64 }, reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 } } },
    });
    const reviewModel = this.api.addModel('Review', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['outcome', 'notes'],
        additionalProperties: false,
        properties: { outcome: { type: JsonSchemaType.STRING, enum: [...REVIEW_OUTCOMES] }, notes: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 } },
      },
    });
    const withBody = (model: IModel) => ({ requestValidator: bodyValidator, requestModels: { 'application/json': model } });
    const integration = (f: BreakGlassFunction) => new LambdaIntegration(f.fn);

    const grants = this.api.root.addResource('grants');
    grants.addMethod('POST', integration(createGrant), withBody(activationModel));
    grants.addMethod('GET', integration(listGrants));
    const grant = grants.addResource('{id}');
    grant.addMethod('GET', integration(getGrant));
    grant.addResource('revoke').addMethod('POST', integration(revokeGrant), withBody(revokeModel));
    grant.addResource('extend').addMethod('POST', integration(extendGrant), withBody(extendModel));
    grant.addResource('review').addMethod('POST', integration(reviewGrant), withBody(reviewModel));
    this.api.root.addResource('audit').addMethod('GET', integration(queryAudit), {
      requestValidator: bodyValidator,
      requestParameters: Object.fromEntries(AUDIT_QUERY_PARAMETERS.map((name) => [`method.request.querystring.${name}`, false])),
    });
    this.api.root.addResource('profiles').addMethod('GET', integration(listProfiles));
    const freeze = this.api.root.addResource('freeze');
    freeze.addMethod('GET', integration(killSwitch));
    freeze.addMethod('POST', integration(killSwitch), withBody(controlModel));
    this.api.root.addResource('unfreeze').addMethod('POST', integration(killSwitch), withBody(controlModel));
    this.api.root.addResource('revoke-all').addMethod('POST', integration(killSwitch), withBody(controlModel));

    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        { id: 'AwsSolutions-COG4', reason: 'Callers are IAM principals (AWS_IAM/SigV4 on every method); break-glass must not depend on a Cognito user pool during an outage.' },
        { id: 'AwsSolutions-APIG3', reason: 'Every method requires SigV4 and stage throttling limits abuse; a WAF web ACL can be attached by the deploying team (README, Deploy).' },
        { id: 'AwsSolutions-IAM4', reason: 'The API Gateway CloudWatch role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.', appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'] },
      ],
      true,
    );

    // Alarms, published to the alert topic.
    const alarmAction = new SnsAction(props.topic);
    const alarm = (name: string, description: string, metric: IMetric) => {
      const a = new Alarm(this, name, { metric, threshold: 1, evaluationPeriods: 1, comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: TreatMissingData.NOT_BREACHING, alarmDescription: description });
      a.addAlarmAction(alarmAction);
      return a;
    };
    alarm('ExpiryErrors', 'break-glass: the expiry function failed; a grant may be past expiry and still attached (its policy condition still denies use).', expireGrant.fn.metricErrors({ period: Duration.minutes(1) }));
    alarm('ExpiryDeadLetters', 'break-glass: an expiry exhausted its retries and was dead-lettered; detach the policy by hand (README, Operations).', props.expiryDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }));
    alarm('Api5xx', 'break-glass: the API answered 5xx.', this.api.metricServerError({ period: Duration.minutes(1) }));
    alarm('ActivationErrors', 'break-glass: the activation function crashed.', createGrant.fn.metricErrors({ period: Duration.minutes(1) }));
    alarm('SweeperErrors', 'break-glass: the reconciliation sweep failed; orphaned access may remain until it succeeds.', sweeper.fn.metricErrors({ period: Duration.minutes(5) }));
    alarm('ReviewErrors', 'break-glass: the review function crashed; a post-incident review may not have been recorded.', reviewGrant.fn.metricErrors({ period: Duration.minutes(1) }));
    alarm('AuditQueryErrors', 'break-glass: the audit query function crashed.', queryAudit.fn.metricErrors({ period: Duration.minutes(1) }));
    alarm('ReviewCheckErrors', 'break-glass: the daily overdue-review check failed; overdue reviews were not announced (invoke the CheckReviews function again once fixed).', checkReviews.fn.metricErrors({ period: Duration.minutes(5) }));
    alarm('ExportErrors', 'break-glass: the daily table export could not be started; today\'s copy for auditors is missing (invoke the ExportTable function again once fixed: it is idempotent per day).', exportTable.fn.metricErrors({ period: Duration.minutes(5) }));

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'break-glass API endpoint (SigV4-signed requests)' });
  }
}
