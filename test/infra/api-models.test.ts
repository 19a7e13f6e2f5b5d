/** The API as synthesized: exactly the route table's methods, IAM on each, and the models generated from the zod schemas. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { requestJsonSchema } from '../../functions/api/json-schema.js';
import { isServiceApiFunction, ROUTES, requestBodies } from '../../functions/api/routes.js';
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

/** Each method of a template as `METHOD /path`, with its authorization and model name. */
function methodsOf(template: Template) {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const models = template.findResources('AWS::ApiGateway::Model');
  return Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => {
    const p = m.Properties;
    const model = p.RequestModels?.['application/json']?.Ref as string | undefined;
    return {
      key: `${p.HttpMethod} ${pathOf(resources, p.ResourceId) || '/'}`,
      auth: p.AuthorizationType,
      model: model ? (models[model]!.Properties.Name ?? models[model]!.Properties.Schema.title) : undefined,
    };
  });
}

describe('the synthesized API', () => {
  it('has exactly the methods of the route table, each AWS_IAM, with its model', () => {
    // Act
    const declared = methodsOf(stateless);
    // Assess: the app's profiles have a drill profile, so every route of the table, the drills' too, and no other.
    expect(declared.map((d) => d.key).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(declared.map((d) => d.key)).toContain('POST /drills');
    for (const d of declared) expect(d.auth).toBe('AWS_IAM');
    for (const r of ROUTES) {
      expect(declared.find((d) => d.key === `${r.method} ${r.path}`)?.model).toBe(r.body?.model);
    }
  });

  it('gives API Gateway each model as the draft-4 schema generated from the zod schema the function parses with', () => {
    const models = Object.values(stateless.findResources('AWS::ApiGateway::Model'));
    expect(models).toHaveLength(requestBodies().length);
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
    // One validator for every route, the drills' too (body and query parameters).
    const validators = Object.values(stateless.findResources('AWS::ApiGateway::RequestValidator'));
    expect(validators.map((v) => v.Properties)).toEqual([
      expect.objectContaining({ ValidateRequestBody: true, ValidateRequestParameters: true }),
    ]);
  });

  it('leaves out the drill routes and their model when the profiles have no drill profile', () => {
    // Prepare: the sample profiles without the drill profile
    const file = join(mkdtempSync(join(tmpdir(), 'api-models-')), 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles = profiles.profiles.filter((p: { drill?: boolean }) => !p.drill);
    writeFileSync(file, JSON.stringify(profiles));
    // Act
    const template = Template.fromStack(app({ profiles: file }, { bundle: false }).stateless);
    // Assess
    const always = ROUTES.filter((r) => isServiceApiFunction(r.function));
    expect(always.length).toBeLessThan(ROUTES.length);
    expect(
      methodsOf(template)
        .map((d) => d.key)
        .sort(),
    ).toEqual(always.map((r) => `${r.method} ${r.path}`).sort());
    const titles = Object.values(template.findResources('AWS::ApiGateway::Model')).map(
      (m) => m.Properties.Schema.title,
    );
    expect(titles).not.toContain('DrillRequest');
    expect(titles.length).toBe(requestBodies().length - 1);
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
