/**
 * The review, audit-query, review-check and export functions, and the auditors' query layer
 * (Glue + Athena), as synthesized: each assertion fails when the property it names is broken.
 */

import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { GSI, KEY_ATTRIBUTES } from '../../functions/adapters/table-schema.js';
import { ENV } from '../../functions/config/env.js';
import type { AuditEvent } from '../../functions/domain/audit-event.js';
import type { Grant } from '../../functions/domain/grant.js';
import {
  ACTIVITY_CALL_ITEMS,
  ATHENA_RESULTS_PREFIX,
  AUDIT_DATABASE,
  AUDIT_TABLE,
  auditQueries,
  BOOLEAN_ATTRIBUTES,
  EVENT_ITEMS,
  GRANT_ITEMS,
  ITEM_COLUMN_TYPE,
  NUMBER_ATTRIBUTES,
  STRING_ATTRIBUTES,
} from '../../infra/athena-queries.js';
import { BreakGlass } from '../../infra/constructs/break-glass.js';
import { BreakGlassAuditQueries } from '../../infra/constructs/break-glass-audit-queries.js';
import { BreakGlassFunction } from '../../infra/constructs/breakglass-function.js';
import { loadProfileFile } from '../../infra/profiles.js';
import { actionsOf, app, functionPolicies, logicalId, resourcesOf, SECURITY, type Statement } from './templates.js';

let stateful: Template;
let stateless: Template;
let policies: Record<string, Statement[]>;
/** Logical id of the audit bucket (the one with access logging) in the stateful stack. */
let auditBucketId: string;

const NEW_FUNCTIONS = ['ReviewGrant', 'QueryAudit', 'CheckReviews', 'ExportTable'] as const;
const BASELINE = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const PUBLISH = ['kms:Decrypt', 'kms:GenerateDataKey*', 'sns:Publish'];

/** Every action a function's role holds, sorted, without duplicates. */
const actions = (fn: string) => [...new Set(policies[fn]!.flatMap(actionsOf))].sort();
const statementsWith = (fn: string, prefix: string) =>
  policies[fn]!.filter((s) => actionsOf(s).some((a) => a.startsWith(prefix)));
const json = (value: unknown) => JSON.stringify(value);
/** `{"Fn::Join": ["", [<table ARN import>, "/index/<name>"]]}` → `<name>`; anything else → the JSON. */
const indexOf = (resource: unknown) => /"\/index\/(\w+)"\]\]\}$/.exec(json(resource))?.[1] ?? json(resource);

function envOf(template: Template, description: string): Record<string, unknown> {
  const [fn] = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
  );
  return fn!.Properties.Environment.Variables;
}

beforeAll(() => {
  // stacks.test.ts synthesizes with bundling (and cdk-nag); what is asserted here does not depend on the bundles.
  const built = app({}, { bundle: false });
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
  policies = functionPolicies(stateless);
  auditBucketId = Object.keys(
    stateful.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } }),
  )[0]!;
});

describe('API: review and audit routes', () => {
  function method(httpMethod: string, pathPart: string) {
    const resourceId = logicalId(stateless, 'AWS::ApiGateway::Resource', `ServiceApi${pathPart}`);
    const found = Object.values(
      stateless.findResources('AWS::ApiGateway::Method', {
        Properties: { HttpMethod: httpMethod, ResourceId: { Ref: resourceId } },
      }),
    );
    expect(found, `${httpMethod} ${pathPart}`).toHaveLength(1);
    return found[0]!.Properties;
  }
  const validator = (ref: unknown) =>
    stateless.findResources('AWS::ApiGateway::RequestValidator')[(ref as { Ref: string }).Ref]!.Properties;

  it('serves POST /grants/{id}/review with AWS_IAM and a validated body: outcome justified|unjustified, notes, nothing else', () => {
    const review = method('POST', 'grantsidreview');
    expect(review.AuthorizationType).toBe('AWS_IAM');
    expect(validator(review.RequestValidatorId)).toMatchObject({ ValidateRequestBody: true });
    const modelId = (review.RequestModels['application/json'] as { Ref: string }).Ref;
    const schema = stateless.findResources('AWS::ApiGateway::Model')[modelId]!.Properties.Schema;
    expect(schema).toMatchObject({
      type: 'object',
      required: ['outcome', 'notes'],
      additionalProperties: false,
      properties: { outcome: { type: 'string', enum: ['justified', 'unjustified'] }, notes: { type: 'string' } },
    });
    expect(Object.keys(schema.properties).sort()).toEqual(['notes', 'outcome']);
    expect(json(review.Integration)).toMatch(/ServiceReviewGrantFunction/);
  });

  it('serves GET /audit with AWS_IAM and validated, declared, optional query parameters', () => {
    const audit = method('GET', 'audit');
    expect(audit.AuthorizationType).toBe('AWS_IAM');
    expect(validator(audit.RequestValidatorId)).toMatchObject({ ValidateRequestParameters: true });
    expect(audit.RequestParameters).toEqual(
      Object.fromEntries(
        ['requester', 'profile', 'eventType', 'from', 'to', 'limit', 'nextToken'].map((p) => [
          `method.request.querystring.${p}`,
          false,
        ]),
      ),
    );
    expect(json(audit.Integration)).toMatch(/ServiceQueryAuditFunction/);
  });
});

describe('least privilege of the new functions', () => {
  it('lets the audit query only Query, and only the four event indexes', () => {
    expect(actions('QueryAudit')).toEqual([...BASELINE, 'dynamodb:Query'].sort());
    const [query, ...others] = statementsWith('QueryAudit', 'dynamodb:');
    expect(others).toEqual([]);
    expect(resourcesOf(query!).map(indexOf).sort()).toEqual([
      'eventsByDay',
      'eventsByProfile',
      'eventsByRequester',
      'eventsByType',
    ]);
    expect(envOf(stateless, 'break-glass: GET /audit')).toHaveProperty(ENV.tableName);
  });

  it('lets the review check only Query the byReviewDue index and publish alerts', () => {
    expect(actions('CheckReviews')).toEqual([...BASELINE, 'dynamodb:Query', ...PUBLISH].sort());
    expect(statementsWith('CheckReviews', 'dynamodb:').flatMap(resourcesOf).map(indexOf)).toEqual(['byReviewDue']);
    expect(json(statementsWith('CheckReviews', 'sns:').flatMap(resourcesOf))).toMatch(/StateAlerts/);
  });

  it('lets the export only start a point-in-time export of the table, see its exports and write objects under exports/ of the audit bucket', () => {
    expect(actions('ExportTable')).toEqual(
      [
        ...BASELINE,
        'dynamodb:DescribeExport',
        'dynamodb:ExportTableToPointInTime',
        'dynamodb:ListExports',
        's3:AbortMultipartUpload',
        's3:PutObject',
        's3:PutObjectAcl',
      ].sort(),
    );
    const dynamo = statementsWith('ExportTable', 'dynamodb:');
    const of = (action: string) => dynamo.filter((st) => actionsOf(st).includes(action)).flatMap(resourcesOf);
    expect(dynamo.every((st) => actionsOf(st).length === 1)).toBe(true);
    expect(of('dynamodb:ExportTableToPointInTime')).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/StateGrants.*Arn/) },
    ]);
    expect(of('dynamodb:DescribeExport')).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::ImportValue': expect.stringMatching(/StateGrants.*Arn/) }, '/export/*']] },
    ]);
    expect(of('dynamodb:ListExports')).toEqual(['*']);
    const s3 = statementsWith('ExportTable', 's3:');
    expect(s3).toHaveLength(1);
    expect(resourcesOf(s3[0]!)).toEqual([
      {
        'Fn::Join': [
          '',
          [{ 'Fn::ImportValue': expect.stringMatching(new RegExp(`${auditBucketId}Arn`)) }, '/exports/*'],
        ],
      },
    ]);
    const env = envOf(stateless, 'break-glass: export the grants table to the audit bucket (daily)');
    expect(Object.keys(env).sort()).toEqual([ENV.auditBucket, 'NODE_OPTIONS', ENV.powertoolsLogLevel, ENV.tableArn]);
  });

  it('lets the review read one grant and append to it: GetItem, PutItem, UpdateItem on the table, no index', () => {
    // With Query and GetItem on ACTIVITY# items only, to seal the activity digest (docs/action-logging.md).
    expect(actions('ReviewGrant')).toEqual(
      [...BASELINE, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', ...PUBLISH].sort(),
    );
    const query = statementsWith('ReviewGrant', 'dynamodb:Query');
    expect(query.map((q) => q.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACTIVITY#*'] } },
    ]);
    const resources = statementsWith('ReviewGrant', 'dynamodb:').flatMap(resourcesOf);
    expect(resources).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/StateGrants.*Arn/) },
      { 'Fn::ImportValue': expect.stringMatching(/StateGrants.*Arn/) },
    ]);
  });

  it('lets no new function delete an item, and none but the review write at all (so none can update an event)', () => {
    const writes =
      /^dynamodb:(\*|DeleteItem|BatchWriteItem|PutItem|UpdateItem|PartiQL.*|DeleteTable|UpdateTable|RestoreTable.*|ImportTable)$/;
    for (const fn of ['QueryAudit', 'CheckReviews', 'ExportTable'])
      expect(
        actions(fn).filter((a) => writes.test(a)),
        fn,
      ).toEqual([]);
    expect(actions('ReviewGrant').filter((a) => writes.test(a))).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    for (const fn of NEW_FUNCTIONS)
      expect(
        actions(fn).filter((a) => /^(dynamodb:(DeleteItem|BatchWriteItem)|s3:(Delete|Get|List).*|\*)$/.test(a)),
        fn,
      ).toEqual([]);
  });

  it('raises an error alarm for each new function, to the alert topic', () => {
    const alarms = Object.values(
      stateless.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Errors' } }),
    );
    for (const fn of NEW_FUNCTIONS) {
      const functionId = logicalId(stateless, 'AWS::Lambda::Function', `Service${fn}Function`);
      const alarm = alarms.find(
        (a) => json(a.Properties.Dimensions) === json([{ Name: 'FunctionName', Value: { Ref: functionId } }]),
      );
      expect(alarm, fn).toBeDefined();
      expect(json(alarm!.Properties.AlarmActions)).toMatch(/StateAlerts/);
    }
  });
});

describe('configuration', () => {
  it('passes the reviewers (security principals by default) and the review deadline (3 days by default)', () => {
    expect(envOf(stateless, 'break-glass: POST /grants/{id}/review')).toMatchObject({
      [ENV.reviewerPrincipals]: SECURITY,
      [ENV.topicArn]: expect.anything(),
    });
    expect(envOf(stateless, 'break-glass: announce overdue post-incident reviews (daily)')).toMatchObject({
      [ENV.reviewDeadlineDays]: '3',
    });
  });

  it('takes reviewerPrincipals and reviewDeadlineDays from context', () => {
    const template = Template.fromStack(
      app(
        {
          securityPrincipals: '',
          reviewerPrincipals: 'arn:aws:iam::123456789012:role/Auditor, arn:aws:iam::123456789012:role/Lead',
          reviewDeadlineDays: '5',
        },
        { bundle: false },
      ).stateless,
    );
    expect(envOf(template, 'break-glass: POST /grants/{id}/review')[ENV.reviewerPrincipals]).toBe(
      'arn:aws:iam::123456789012:role/Auditor,arn:aws:iam::123456789012:role/Lead',
    );
    expect(envOf(template, 'break-glass: announce overdue post-incident reviews (daily)')[ENV.reviewDeadlineDays]).toBe(
      '5',
    );
  });

  it('fails synth when nobody could review', () => {
    expect(() => app({ securityPrincipals: '' }, { bundle: false })).toThrowError(
      /no reviewer principals.*reviewerPrincipals/,
    );
  });

  it('fails synth on a review deadline that is not a number of days', () => {
    expect(() => app({ reviewDeadlineDays: 'three' }, { bundle: false })).toThrowError(
      /reviewDeadlineDays must be a number/,
    );
    expect(() => app({ reviewDeadlineDays: '0' }, { bundle: false })).toThrowError(
      /reviewDeadlineDays must be a number of days greater than 0/,
    );
    expect(() => app({ reviewDeadlineDays: '400' }, { bundle: false })).toThrowError(/at most 365/);
  });
});

describe('schedules', () => {
  const ruleTarget = (expression: string) => {
    const rules = Object.values(
      stateless.findResources('AWS::Events::Rule', {
        Properties: { ScheduleExpression: expression, State: 'ENABLED' },
      }),
    );
    expect(rules, expression).toHaveLength(1);
    return rules[0]!.Properties.Targets as Array<{ Arn: unknown }>;
  };

  it('exports the table daily at 02:00 UTC and checks reviews daily at 08:00 UTC, each rule targeting its function only', () => {
    expect(ruleTarget('cron(0 2 * * ? *)').map((t) => t.Arn)).toEqual([
      { 'Fn::GetAtt': [logicalId(stateless, 'AWS::Lambda::Function', 'ServiceExportTableFunction'), 'Arn'] },
    ]);
    expect(ruleTarget('cron(0 8 * * ? *)').map((t) => t.Arn)).toEqual([
      { 'Fn::GetAtt': [logicalId(stateless, 'AWS::Lambda::Function', 'ServiceCheckReviewsFunction'), 'Arn'] },
    ]);
  });
});

describe('the table', () => {
  it('has exactly the indexes of table-schema.ts, all keys strings, all attributes projected', () => {
    const [table] = Object.values(stateful.findResources('AWS::DynamoDB::Table'));
    const indexes = table!.Properties.GlobalSecondaryIndexes as Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string; KeyType: string }>;
      Projection: { ProjectionType: string };
    }>;
    const actual = Object.fromEntries(
      indexes.map((i) => [
        i.IndexName,
        {
          partitionKey: i.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName,
          sortKey: i.KeySchema.find((k) => k.KeyType === 'RANGE')!.AttributeName,
        },
      ]),
    );
    expect(actual).toEqual(GSI);
    for (const i of indexes) expect(i.Projection.ProjectionType).toBe('ALL');
    for (const d of table!.Properties.AttributeDefinitions as Array<{ AttributeType: string }>)
      expect(d.AttributeType).toBe('S');
  });
});

describe("auditors' query layer", () => {
  const location = (suffix: string) => ({ 'Fn::Join': ['', ['s3://', { Ref: auditBucketId }, suffix]] });

  it('reads the exports through a Glue table partitioned by day with projection, with the OpenX JSON SerDe', () => {
    const [table] = Object.values(stateful.findResources('AWS::Glue::Table'));
    const input = table!.Properties.TableInput;
    expect(input.Name).toBe(AUDIT_TABLE);
    expect(table!.Properties.DatabaseName).toEqual({
      Ref: logicalId(stateful, 'AWS::Glue::Database', 'AuditQueriesDatabase'),
    });
    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's projection template syntax, not a JS template.
      'storage.location.template': location('/exports/dt=${dt}/'),
    });
    expect(input.StorageDescriptor).toMatchObject({
      Location: location('/exports/'),
      SerdeInfo: {
        SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
        Parameters: { 'ignore.malformed.json': 'true' },
      },
      Columns: [{ Name: 'item', Type: ITEM_COLUMN_TYPE }],
    });
    stateful.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: AUDIT_DATABASE } });
  });

  it('has a column attribute for every attribute of a stored grant and event, and every table and index key', () => {
    // `Required<…>`: a new field on Grant or AuditEvent fails type-checking here until it is listed.
    const grant: Required<Grant> = {
      id: '',
      profile: '',
      owner: '',
      principalArn: '',
      targetType: 'role',
      targetName: '',
      account: '',
      accountAlias: '',
      status: 'ACTIVE',
      reason: '',
      ticket: '',
      durationMinutes: 1,
      createdAt: '',
      expiresAt: '',
      endedAt: '',
      endingSince: '',
      policyName: '',
      scheduleName: '',
      sessionUserId: '',
      grants: '',
      extensions: 0,
      endedBy: '',
      endReason: '',
      version: 1,
      eventCount: 1,
      sequence: 1,
      lastHash: '',
      reviewState: 'DUE',
      reviewOutcome: 'justified',
      reviewedBy: '',
      reviewedAt: '',
      requestId: '',
      person: '',
      grantTo: 'profileRole',
      slot: 0,
      sessionName: '',
      policyDocument: '',
      credentialsIssued: 0,
      drill: true,
    };
    const event: Required<AuditEvent> = {
      grantId: '',
      seq: 1,
      type: 'EXPIRED',
      at: '',
      actor: '',
      reason: '',
      outcome: 'SUCCESS',
      requestId: '',
      details: {},
      requester: '',
      profile: '',
      day: '',
      prevHash: '',
      hash: '',
    };
    const fields = new Map<string, string>([
      ...STRING_ATTRIBUTES.map((a) => [a, 'string'] as const),
      ...NUMBER_ATTRIBUTES.map((a) => [a, 'number'] as const),
      ...BOOLEAN_ATTRIBUTES.map((a) => [a, 'boolean'] as const),
      ['details', 'map'],
    ]);
    for (const [name, value] of [...Object.entries(grant), ...Object.entries(event)]) {
      const kind =
        typeof value === 'number'
          ? 'number'
          : typeof value === 'boolean'
            ? 'boolean'
            : typeof value === 'object'
              ? 'map'
              : 'string';
      expect(fields.get(name.toLowerCase()), name).toBe(kind);
    }
    for (const key of KEY_ATTRIBUTES) expect(fields.get(key.toLowerCase()), key).toBe('string');
    expect(ITEM_COLUMN_TYPE).toContain('details:struct<m:map<string,struct<s:string>>>');
  });

  it('runs queries in a workgroup that enforces encrypted results under athena-results/ of their own bucket (not the locked audit bucket), expired after 30 days', () => {
    const resultsBucketId = logicalId(stateful, 'AWS::S3::Bucket', 'StateAthenaResults');
    expect(resultsBucketId).not.toBe(auditBucketId);
    stateful.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resultsBucketId }, `/${ATHENA_RESULTS_PREFIX}/`]] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: Match.anyValue(),
        },
      }),
    });
    const results = stateful.findResources('AWS::S3::Bucket')[resultsBucketId]!;
    expect(results.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Prefix: `${ATHENA_RESULTS_PREFIX}/`, ExpirationInDays: 30, Status: 'Enabled' }),
    ]);
    expect(results.Properties.ObjectLockEnabled).toBeUndefined();
    expect(results.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
    // Nothing of the audit bucket expires: its exports are kept under Object Lock.
    expect(stateful.findResources('AWS::S3::Bucket')[auditBucketId]!.Properties.LifecycleConfiguration).toBeUndefined();
  });

  it('saves the queries of athena-queries.ts, each on the Glue table, in the workgroup, reading only grant or event items', () => {
    const saved = Object.values(stateful.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties);
    const expected = auditQueries();
    expect(saved.map((q) => q.QueryString).sort()).toEqual(expected.map((q) => q.sql).sort());
    expect(expected.map((q) => q.id).sort()).toEqual([
      'CallsOfGrant',
      'ExpiredLate',
      'GrantActivity',
      'GrantsByPerson',
      'GrantsInPeriod',
      'ReasonsContaining',
      'UnreviewedGrants',
    ]);
    const workGroup = logicalId(stateful, 'AWS::Athena::WorkGroup', 'AuditQueriesWorkGroup');
    for (const q of saved) {
      expect(q.Database, q.Name).toBe(AUDIT_DATABASE);
      expect(q.WorkGroup, q.Name).toEqual({ Ref: workGroup });
      expect(q.QueryString, q.Name).toContain(`FROM "${AUDIT_DATABASE}"."${AUDIT_TABLE}"`);
      expect(
        [GRANT_ITEMS, EVENT_ITEMS, ACTIVITY_CALL_ITEMS].some((items) => q.QueryString.includes(items)),
        q.Name,
      ).toBe(true);
      // Each export is a full copy: without the newest-copy step, every count would be multiplied by the days.
      expect(q.QueryString, q.Name).toMatch(
        /row_number\(\) OVER \(PARTITION BY item\.pk\.s, item\.sk\.s ORDER BY dt DESC\)/,
      );
    }
    for (const q of expected) expect(q.sql.split('?').length - 1, q.id).toBe(q.parameters.length);
    expect(expected.find((q) => q.id === 'ExpiredLate')!.sql).toMatch(/lateBySeconds[\s\S]*> 300/);
    expect(expected.find((q) => q.id === 'UnreviewedGrants')!.sql).toContain("item.reviewstate.s = 'DUE'");
  });
});

describe('KMS-encrypted audit and results buckets', () => {
  it("gives the export the audit bucket's key, and the workgroup encrypts results with the results bucket's key", () => {
    // Prepare
    const stack = new Stack(new App(), 'Kms', { env: { account: '123456789012', region: 'eu-west-1' } });
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const bucket = new Bucket(stack, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: new Key(stack, 'BucketKey'),
    });
    // Act
    new BreakGlassFunction(stack, 'ServiceExportTable', {
      handlerFile: 'export-table',
      description: 'export',
      profiles: {},
    }).exportTableTo(table, bucket, 'exports');
    const resultsBucket = new Bucket(stack, 'Results', {
      encryption: BucketEncryption.KMS,
      encryptionKey: new Key(stack, 'ResultsKey'),
    });
    new BreakGlassAuditQueries(stack, 'AuditQueries', { bucket, resultsBucket });
    // Assess
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms.flatMap(resourcesOf)).toEqual([
      { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'BucketKey'), 'Arn'] },
    ]);
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        ResultConfiguration: Match.objectLike({
          EncryptionConfiguration: {
            EncryptionOption: 'SSE_KMS',
            KmsKey: { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'ResultsKey'), 'Arn'] },
          },
        }),
      }),
    });
  });
});

describe('the embeddable construct', () => {
  const embedded = (props: Partial<ConstructorParameters<typeof BreakGlass>[2]>) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Embedded', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    new BreakGlass(stack, 'BreakGlass', { profiles: loadProfileFile('config/profiles.json'), ...props });
    return stack;
  };

  it('refuses to build without reviewers, and otherwise brings the new functions and the query layer under the names given', () => {
    expect(() => embedded({})).toThrowError(/no reviewer principals/);
    const template = Template.fromStack(
      embedded({
        reviewerPrincipals: ['arn:aws:iam::123456789012:role/Auditor'],
        auditDatabaseName: 'bg_audit_staging',
        auditWorkGroupName: 'bg-audit-staging',
      }),
    );
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(20); // 14, action logging's 3, the drills' 3
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'bg_audit_staging' } });
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'bg-audit-staging' });
    for (const q of Object.values(template.findResources('AWS::Athena::NamedQuery'))) {
      expect(q.Properties.Database).toBe('bg_audit_staging');
      expect(q.Properties.QueryString).toContain(`FROM "bg_audit_staging"."${AUDIT_TABLE}"`);
    }
  });
});
