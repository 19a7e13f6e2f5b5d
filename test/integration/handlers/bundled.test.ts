/**
 * The functions as deployed: bundled with the stacks' own options (`infra/constructs/bundling.ts`: the SDK's ES
 * module builds bundled and minified, only lazily loaded credential providers and STS left to the runtime), then
 * run against the emulator. The other handler tests run the TypeScript sources; this one proves the bundle
 * itself, SDK included, serialises, signs and parses real calls: activation attaches the policy, creates the
 * schedule and writes the record; revocation takes them away.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../../functions/config/env.js';
import { esbuildOptions, functionBundling } from '../../../infra/constructs/bundling.js';
import {
  apiEvent,
  inlinePolicies,
  parse,
  schedules,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let create: Api;
let revoke: Api;
const ctx = {} as Context;

/** Bundles a handler as the stacks do, with this world's profile file inlined, and loads it (its cold start). */
async function bundled(name: string): Promise<Api> {
  const profiles = JSON.parse(readFileSync(process.env[ENV.profilesFile]!, 'utf8')) as unknown;
  const file = join(mkdtempSync(join(tmpdir(), 'bundled-handler-')), `${name}.cjs`);
  await build(esbuildOptions(`functions/handlers/${name}.ts`, file, functionBundling(profiles)));
  return (createRequire(import.meta.url)(file) as { handler: Api }).handler;
}

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  create = await bundled('create-grant');
  revoke = await bundled('revoke-grant');
});

describe('the bundled functions against the emulator', () => {
  it('activate and revoke a grant: policy, schedule and record, then none of them', async () => {
    // Prepare
    const identity = await sessionOf(world, world.responderRole, 'bundle-check');
    // Act: activation through the bundle.
    const created = await create(
      apiEvent({ identity, body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 15 } }),
      ctx,
    );
    // Assess
    expect(created.statusCode).toBe(201);
    const grant = parse(created).grant as { id: string; status: string; policyName: string };
    expect(grant.status).toBe('ACTIVE');
    const attached = await inlinePolicies(world, { role: world.responderRole });
    expect(Object.keys(attached)).toContain(grant.policyName);
    expect((await schedules(world)).map((s) => s.Name)).toContain(grant.id);
    expect((await tableItems(world, grant.id)).length).toBeGreaterThan(0);

    // Act: revocation by the requester, through its bundle.
    const revoked = await revoke(
      apiEvent({ identity, pathParameters: { id: grant.id }, body: { reason: 'fixed, handing back' } }),
      ctx,
    );
    // Assess
    expect(revoked.statusCode).toBe(200);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).not.toContain(grant.policyName);
    expect((await schedules(world)).map((s) => s.Name)).not.toContain(grant.id);
  });
});
