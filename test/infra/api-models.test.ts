/** The API as synthesized: exactly the route table's methods, IAM on each, and the models generated from the zod schemas. */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { requestJsonSchema } from '../../functions/api/json-schema.js';
import { ROUTES, requestBodies } from '../../functions/api/routes.js';
import { hideFromLogicalIds, logicalIdOf } from '../../infra/constructs/logical-ids.js';
import { app } from './templates.js';

const stateless = Template.fromStack(app({}, { bundle: false }).stateless);

/** The path of an API Gateway resource id, from the template's Resource tree. */
function pathOf(resources: Record<string, Record<string, unknown>>, ref: unknown): string {
  if (typeof ref === 'object' && ref && 'Fn::GetAtt' in ref) return '';
  const id = (ref as { Ref: string }).Ref;
  const props = resources[id]!.Properties as { ParentId: unknown; PathPart: string };
  return `${pathOf(resources, props.ParentId)}/${props.PathPart}`;
}

describe('the synthesized API', () => {
  it('has exactly the methods of the route table, each AWS_IAM, with its model', () => {
    // Prepare
    const resources = stateless.findResources('AWS::ApiGateway::Resource');
    const models = stateless.findResources('AWS::ApiGateway::Model');
    const methods = Object.values(stateless.findResources('AWS::ApiGateway::Method'));
    // Act
    const declared = methods.map((m) => {
      const p = m.Properties;
      const model = p.RequestModels?.['application/json']?.Ref as string | undefined;
      return {
        key: `${p.HttpMethod} ${pathOf(resources, p.ResourceId) || '/'}`,
        auth: p.AuthorizationType,
        model: model ? (models[model]!.Properties.Name ?? models[model]!.Properties.Schema.title) : undefined,
      };
    });
    // Assess
    // The route table's routes, and the three the drill construct adds when a drill profile exists (infra/constructs/drills.ts:
    // not yet in the route table — a known gap, docs/declare-once.md).
    const drillRoutes = ['GET /drills', 'GET /drills/{id}', 'POST /drills'];
    expect(declared.map((d) => d.key).sort()).toEqual(
      [...ROUTES.map((r) => `${r.method} ${r.path}`), ...drillRoutes].sort(),
    );
    for (const d of declared) expect(d.auth).toBe('AWS_IAM');
    for (const r of ROUTES) {
      expect(declared.find((d) => d.key === `${r.method} ${r.path}`)?.model).toBe(r.body?.model);
    }
  });

  it('gives API Gateway each model as the draft-4 schema generated from the zod schema the function parses with', () => {
    const models = Object.values(stateless.findResources('AWS::ApiGateway::Model'));
    expect(models).toHaveLength(requestBodies().length + 1); // and the drill construct's DrillRequest
    for (const body of requestBodies()) {
      const model = models.find((m) => m.Properties.Schema.title === body.model);
      expect(model?.Properties.ContentType).toBe('application/json');
      expect(model?.Properties.Schema).toEqual({
        $schema: 'http://json-schema.org/draft-04/schema#',
        title: body.model,
        ...requestJsonSchema(body.schema, body.model),
      });
    }
  });

  it('validates the body of every route that has one, and declares the query parameters of those that take them', () => {
    const methods = Object.values(stateless.findResources('AWS::ApiGateway::Method'));
    const audit = methods.find((m) => JSON.stringify(m.Properties.RequestParameters ?? {}).includes('eventType'));
    expect(Object.keys(audit?.Properties.RequestParameters ?? {})).toContain('method.request.querystring.nextToken');
    for (const m of methods.filter((x) => x.Properties.RequestModels))
      expect(m.Properties.RequestValidatorId).toBeDefined();
  });
});

describe('logical IDs of the split-out constructs', () => {
  it('computes what CDK computes for a path (so the split keeps every resource id)', () => {
    const stack = new Stack(new App(), 'S');
    const deep = new Construct(new Construct(stack, 'Service'), 'Create-Grant');
    const r = new CfnResource(new Construct(deep, 'Role'), 'Resource', { type: 'AWS::SNS::Topic' });
    const also = new CfnResource(new Construct(stack, 'ServiceService'), 'Default', { type: 'AWS::SNS::Topic' });
    expect(stack.resolve(r.logicalId)).toBe(logicalIdOf(['Service', 'Create-Grant', 'Role', 'Resource']));
    expect(stack.resolve(also.logicalId)).toBe(logicalIdOf(['ServiceService', 'Default']));
  });

  it("leaves the split-out construct's own id out of its resources' logical IDs", () => {
    const stack = new Stack(new App(), 'S');
    const service = new Construct(stack, 'Service');
    const before = new CfnResource(service, 'Group', { type: 'AWS::SNS::Topic' });
    const part = new Construct(service, 'Schedules');
    hideFromLogicalIds(part);
    const after = new CfnResource(part, 'Group2', { type: 'AWS::SNS::Topic' });
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, unknown> };
    expect(Object.keys(template.Resources).sort()).toEqual(
      [stack.resolve(before.logicalId) as string, logicalIdOf(['Service', 'Group2'])].sort(),
    );
    expect(stack.resolve(after.logicalId)).toBe(logicalIdOf(['Service', 'Group2']));
  });
});
