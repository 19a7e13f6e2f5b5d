import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALLOWED_KEYWORDS, requestJsonSchema } from '../../../functions/api/json-schema.js';
import { apiReference, openApiDocument } from '../../../functions/api/openapi.js';
import { API_FUNCTIONS, ROUTES, requestBodies, routeOf, routePath } from '../../../functions/api/routes.js';

const keywordsOf = (schema: unknown): string[] =>
  schema && typeof schema === 'object'
    ? Object.entries(schema).flatMap(([k, v]) =>
        k === 'properties'
          ? Object.values(v as Record<string, unknown>).flatMap(keywordsOf)
          : [k, ...(k === 'items' ? keywordsOf(v) : [])],
      )
    : [];

describe('the route table', () => {
  it('declares each method and path once, with a unique operation id and a known function', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(ROUTES.map((r) => r.operationId)).size).toBe(ROUTES.length);
    for (const r of ROUTES) expect(Object.keys(API_FUNCTIONS)).toContain(r.function);
    // Every API function serves at least one route.
    expect(new Set(ROUTES.map((r) => r.function))).toEqual(new Set(Object.keys(API_FUNCTIONS)));
  });

  it('fills and encodes path parameters, and refuses a path that is not a route or a missing parameter', () => {
    expect(routePath('/grants/{id}/revoke', { id: 'a/b' })).toBe('/grants/a%2Fb/revoke');
    expect(() => routePath('/grants/{id}/revoke')).toThrow(/Path parameter id is required/);
    expect(() => routePath('/nope')).toThrow(/No route/);
    expect(routePath(routeOf('getDrill').path, { id: 'd-1' })).toBe('/drills/d-1');
  });
});

describe('request models', () => {
  it('use only the draft-4 keywords API Gateway models are given, and state the limits without padding', () => {
    for (const body of requestBodies()) {
      const schema = requestJsonSchema(body.schema, body.model);
      for (const k of keywordsOf(schema)) expect(ALLOWED_KEYWORDS.has(k), `${body.model}: ${k}`).toBe(true);
      expect(schema.additionalProperties).toBe(false);
    }
    const activation = requestJsonSchema(requestBodies().find((b) => b.model === 'Activation')!.schema);
    expect(activation.properties?.reason?.maxLength).toBe(1000);
    expect(activation.properties?.ticket?.maxLength).toBe(128);
    expect(activation.required).toEqual(['profile', 'reason']);
  });

  it('fails on a schema that needs a keyword outside the subset, instead of handing it to API Gateway', () => {
    expect(() => requestJsonSchema(z.object({ at: z.iso.datetime() }), 'Bad')).toThrow(
      /Bad\.at: JSON Schema keyword "(format|pattern)" is not one/,
    );
  });
});

describe('the OpenAPI description', () => {
  it('is valid OpenAPI 3 (checked against the specification schema by @seriousme/openapi-schema-validator)', async () => {
    const result = await new Validator().validate(openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('rejects a broken description (the validator is not a no-op)', async () => {
    const broken = openApiDocument();
    (broken.paths as Record<string, Record<string, Record<string, unknown>>>)['/grants']!.post!.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('has every route of the table, and docs/openapi.json and docs/reference-api.md are up to date (npm run openapi)', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { operationId: string }>> };
    for (const r of ROUTES) expect(doc.paths[r.path]?.[r.method.toLowerCase()]?.operationId).toBe(r.operationId);
    expect(JSON.parse(readFileSync('docs/openapi.json', 'utf8'))).toEqual(openApiDocument());
    expect(readFileSync('docs/reference-api.md', 'utf8')).toBe(apiReference());
  });

  it('describes the drill routes: security callers, 202 for a start with an optional body, the drill id', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, Record<string, any>>>;
    };
    const start = doc.paths['/drills']!.post!;
    expect(start['x-breakglass-callers']).toBe('security');
    expect(Object.keys(start.responses)).toContain('202');
    expect(start.requestBody).toEqual({
      required: false,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/DrillRequest' } } },
    });
    expect(doc.paths['/drills']!.get!['x-breakglass-callers']).toBe('security');
    const id = doc.paths['/drills/{id}']!.get!.parameters[0];
    expect(id).toMatchObject({ name: 'id', in: 'path', description: expect.stringMatching(/drill id/) });
    expect(new RegExp(id.schema.pattern).test('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(true);
    expect(new RegExp(id.schema.pattern).test('../x')).toBe(false);
    expect(doc.paths['/grants/{id}']!.get!.parameters[0].description).toMatch(/grant id/);
  });
});
