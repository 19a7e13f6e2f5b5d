/**
 * The REST API, built from the route table (`functions/api/routes.ts`): one method per route,
 * AWS_IAM on every one, bodies validated against models generated from the zod schemas the
 * functions parse with, throttled, access-logged. A good neighbour in a shared account: named,
 * REGIONAL, and no account-wide API Gateway setting unless asked. The drill routes are added by
 * the drill construct ({@link BreakGlassApi.serve}) once it has made their functions.
 */
import { Stack } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  type IModel,
  type JsonSchema,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  type Resource,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { requestJsonSchema } from '../../functions/api/json-schema.js';
import {
  type ApiFunctionName,
  type DrillApiFunctionName,
  ROUTES,
  type RouteDefinition,
  type ServiceApiFunctionName,
} from '../../functions/api/routes.js';
import { RESOURCE_PREFIX } from '../protected-resources.js';
import { hideFromLogicalIds } from './logical-ids.js';

/**
 * One JSON line per request in the API's access log: who called (the caller's ARN as SigV4
 * authenticated it), what, and API Gateway's own error message when it refused or failed.
 */
export const API_ACCESS_LOG_FIELDS = {
  requestId: AccessLogField.contextRequestId(),
  requestTime: AccessLogField.contextRequestTime(),
  ip: AccessLogField.contextIdentitySourceIp(),
  caller: AccessLogField.contextIdentityCaller(),
  user: AccessLogField.contextIdentityUser(),
  userArn: AccessLogField.contextIdentityUserArn(),
  httpMethod: AccessLogField.contextHttpMethod(),
  resourcePath: AccessLogField.contextResourcePath(),
  protocol: AccessLogField.contextProtocol(),
  status: AccessLogField.contextStatus(),
  responseLength: AccessLogField.contextResponseLength(),
  errorMessage: AccessLogField.contextErrorMessage(),
  integrationStatus: AccessLogField.contextIntegrationStatus(),
  integrationError: AccessLogField.contextIntegrationErrorMessage(),
} as const;

/**
 * The API's resource policy: a Deny for callers whose role is *named* like an Identity Center role
 * (`AWSReservedSSO_*`) but is not under the path Identity Center creates its roles in
 * (`/aws-reserved/sso.amazonaws.com/`). A session ARN carries no role path, so the functions recognise
 * Identity Center users by the role name (`personOf`: the session name is the user); anyone allowed
 * `iam:CreateRole` could otherwise create `AWSReservedSSO_x` at `/`, name a session `alice@example.com`
 * and be Alice. `aws:PrincipalArn` is the role's ARN with its path, so it tells the two apart.
 * For IAM-authorized callers in the same account, API Gateway allows a request that IAM allows unless a
 * resource policy denies it: this policy only takes away, it grants nothing.
 */
export function identityCenterImpostorGuard(partition: string): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'DenyIdentityCenterImpostors',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: {
          ArnLike: { 'aws:PrincipalArn': `arn:${partition}:iam::*:role/*AWSReservedSSO_*` },
          ArnNotLike: { 'aws:PrincipalArn': `arn:${partition}:iam::*:role/aws-reserved/sso.amazonaws.com/*` },
        },
      }),
    ],
  });
}

/**
 * A request body's model: the draft-4 JSON Schema generated from its zod schema (API Gateway
 * developer guide, "Data models for REST APIs": models are defined using JSON schema draft 4).
 * The keys are CDK's (`schema` for `$schema`), which renders them as JSON Schema.
 */
export function modelSchema(schema: Parameters<typeof requestJsonSchema>[0], name: string): JsonSchema {
  return { schema: JsonSchemaVersion.DRAFT4, title: name, ...(requestJsonSchema(schema, name) as JsonSchema) };
}

export interface BreakGlassApiProps {
  /**
   * The Lambda function behind each API function of the route table. The drill functions may come
   * later, through {@link BreakGlassApi.serve}, from the drill construct. @default no drill routes
   */
  readonly functions: Readonly<Record<ServiceApiFunctionName, IFunction>> &
    Partial<Readonly<Record<DrillApiFunctionName, IFunction>>>;
  /** Name of the REST API. @default 'breakglass' */
  readonly apiName?: string;
  /** Stage throttling. @default { rateLimit: 10, burstLimit: 20 } */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Retention of the access log. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /**
   * Create the account-wide API Gateway CloudWatch role (`AWS::ApiGateway::Account`), which
   * replaces any other in the account and region, and turn on execution logs. Access logs need
   * no such role and are always on. @default false
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** Eligible principal patterns of spoke accounts, allowed by the resource policy (`withCrossAccountCallers`). @default none */
  readonly crossAccountCallers?: readonly string[];
  /**
   * An AWS Organizations id (`o-…`): only principals of that organization may call the API, from any of its
   * accounts (`withOrganizationOnly`). IAM authorization stays on every method. @default no organization condition
   */
  readonly principalOrgId?: string;
}

/** An organization id as AWS Organizations writes it ("o-" and 10 to 32 lowercase letters or digits). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/**
 * Only the callers of one organization (`-c principalOrgId=o-…`), by `aws:PrincipalOrgID`, "the identifier of
 * the organization in AWS Organizations to which the requesting principal belongs" (IAM User Guide, global
 * condition keys). With IAM authorization and a resource policy, API Gateway's outcome depends on where the
 * caller is (API Gateway developer guide, "How API Gateway resource policies affect authorization workflow",
 * IAM authentication and resource policy): a caller of the API's own account passes when its IAM policy or the
 * resource policy allows and neither denies; a caller of another account needs both to allow (re:Post,
 * "access-api-gateway-account": the caller "must be allowed explicit access in the resource policy"). Hence two
 * statements:
 * - a Deny for every principal outside the organization, the only statement that can stop a caller of the API's
 *   own account (whose IAM allow suffices) and one of another account that some other Allow names;
 * - an Allow for every principal of the organization, so a caller of any member account (an account added
 *   later included) needs only its own IAM allow. It widens who reaches the functions, not who is granted
 *   anything: eligibility is the functions' check, and a refused attempt is recorded and announced.
 */
export function withOrganizationOnly(policy: PolicyDocument, organizationId: string | undefined): PolicyDocument {
  if (organizationId === undefined) return policy;
  if (!ORGANIZATION_ID.test(organizationId))
    throw new Error(
      `-c principalOrgId must be an AWS Organizations id ("o-" and 10 to 32 lowercase letters or digits), got "${organizationId}"`,
    );
  const condition = { 'aws:PrincipalOrgID': organizationId };
  policy.addStatements(
    new PolicyStatement({
      sid: 'DenyCallersOutsideTheOrganization',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { StringNotEquals: condition },
    }),
    new PolicyStatement({
      sid: 'AllowCallersOfTheOrganization',
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { StringEquals: condition },
    }),
  );
  return policy;
}

/**
 * Callers from the spoke accounts the profiles name: for a caller in another account, API Gateway needs
 * an explicit Allow in the resource policy besides the caller's own IAM policy (API Gateway developer
 * guide, "How API Gateway resource policies affect authorization workflow", cross-account). Only the
 * named principal patterns are allowed, by `aws:PrincipalArn`.
 */
export function withCrossAccountCallers(policy: PolicyDocument, patterns: readonly string[]): PolicyDocument {
  if (!patterns.length) return policy;
  const arns = [
    ...new Set(
      patterns.map((p) => {
        const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.*$/.exec(p);
        return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : p;
      }),
    ),
  ];
  policy.addStatements(
    new PolicyStatement({
      sid: 'AllowNamedCallersOfSpokeAccounts',
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { ArnLike: { 'aws:PrincipalArn': arns } },
    }),
  );
  return policy;
}

/** cdk-nag's finding on every method (no Cognito authorizer), acknowledged. */
const COG4 = {
  id: 'AwsSolutions-COG4',
  reason:
    'Callers are IAM principals (AWS_IAM/SigV4 on every method); break-glass must not depend on a Cognito user pool during an outage.',
};

export class BreakGlassApi extends Construct {
  readonly api: RestApi;
  /** Whether the account-wide CloudWatch role and execution logs are on. */
  readonly executionLogs: boolean;
  private readonly modelsByName: Record<string, IModel> = {};
  private readonly validator: RequestValidator;
  /** The request models of the routes served so far, by model name (`Activation`, `Revocation`, …). */
  get models(): Readonly<Record<string, IModel>> {
    return this.modelsByName;
  }
  /** One integration per function, shared by its routes. */
  private readonly integrations = new Map<ApiFunctionName, LambdaIntegration>();

  constructor(scope: Construct, id: string, props: BreakGlassApiProps) {
    super(scope, id);
    // Split out of BreakGlassService: its resources keep the logical IDs (and fixed names) they had there.
    hideFromLogicalIds(this);
    const stack = Stack.of(this);
    // Execution logs need the account's API Gateway CloudWatch role (AWS::ApiGateway::Account,
    // one per account and region, replaced by whoever deploys one last); without that role a
    // stage with a logging level fails to deploy ("CloudWatch Logs role ARN must be set in account
    // settings to enable logging": aws-samples/amazon-bedrock-knowledgebase-slackbot#6, and
    // VirtusLab/besom#347, where removing loggingLevel was the fix), so the level is set only with
    // the role. The access log stays on (not verified without the role).
    const executionLogs = props.apiGatewayCloudWatchRole ?? false;
    this.executionLogs = executionLogs;
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${RESOURCE_PREFIX}-access`,
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: props.apiName ?? 'breakglass',
      description: 'break-glass emergency access',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      policy: withOrganizationOnly(
        withCrossAccountCallers(identityCenterImpostorGuard(stack.partition), props.crossAccountCallers ?? []),
        props.principalOrgId,
      ),
      cloudWatchRole: executionLogs,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: props.throttling?.rateLimit ?? 10,
        throttlingBurstLimit: props.throttling?.burstLimit ?? 20,
        ...(executionLogs ? { loggingLevel: MethodLoggingLevel.ERROR } : {}),
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(API_ACCESS_LOG_FIELDS)),
      },
    });
    if (!executionLogs) {
      NagSuppressions.addResourceSuppressions(this.api.deploymentStage, [
        {
          id: 'AwsSolutions-APIG6',
          reason:
            'Execution logs need the account-wide API Gateway CloudWatch role, which this stack does not take over by default (-c apiGatewayCloudWatchRole=true turns both on); every request is in the access log, with the caller ARN and the error message.',
        },
      ]);
    }
    this.validator = new RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.serve(props.functions);

    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        COG4,
        {
          id: 'AwsSolutions-APIG3',
          reason:
            'Every method requires SigV4 and stage throttling limits abuse; a WAF web ACL can be attached by the deploying team (docs, Deploy).',
        },
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'The API Gateway CloudWatch role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
        },
      ],
      true,
    );
  }

  /**
   * Adds the methods of every route the given functions serve (the route table's `function`), with
   * their models. The constructor serves the service's functions; the drill construct serves its own
   * once it has made them. A route is served once: serving a function again is an error.
   */
  serve(functions: Partial<Readonly<Record<ApiFunctionName, IFunction>>>): void {
    for (const route of ROUTES) {
      const fn = functions[route.function];
      if (fn) this.addRoute(route, fn);
    }
  }

  private addRoute(route: RouteDefinition, fn: IFunction): void {
    if (this.integrations.get(route.function) === undefined)
      this.integrations.set(route.function, new LambdaIntegration(fn));
    const resource = route.path
      .split('/')
      .filter(Boolean)
      .reduce<Resource | RestApi['root']>(
        (parent, part) => parent.getResource(part) ?? parent.addResource(part),
        this.api.root,
      );
    const body = route.body;
    if (body) {
      this.modelsByName[body.model] ??= this.api.addModel(body.model, {
        contentType: 'application/json',
        schema: modelSchema(body.schema, body.model),
      });
    }
    const method = resource.addMethod(route.method, this.integrations.get(route.function)!, {
      ...(body || route.query ? { requestValidator: this.validator } : {}),
      ...(body ? { requestModels: { 'application/json': this.models[body.model]! } } : {}),
      ...(route.query
        ? {
            requestParameters: Object.fromEntries(
              route.query.map((q) => [`method.request.querystring.${q.name}`, false]),
            ),
          }
        : {}),
    });
    // cdk-nag applies a suppression to the children a construct has when it is added: a method added
    // after the constructor (the drills') needs its own.
    NagSuppressions.addResourceSuppressions(method, [COG4]);
  }
}
