/**
 * A profile's acknowledged escalation risks travel with it: `GET /profiles` lists them with
 * their justification, and every alert about a grant of the profile names them (subject,
 * one body line each, chat, machine form, and an SNS attribute subscribers can filter on).
 */

import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../../functions/adapters/sns-notifier.adapter.js';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { composeAlert } from '../../../functions/domain/alert.js';
import { listProfiles } from '../../../functions/domain/query-grants.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { risksByProfile } from '../../../functions/domain/risk.js';
import { ALICE, ALICE_ID, fakePorts, MALLORY, SECURITY, testProfiles } from '../../support/fakes.js';

const CODE = 'deploys the hotfix Lambda when the pipeline is down';
const PASS = 'the hotfix Lambda runs as its existing execution role';
const risky = testProfiles({ acknowledgedRisks: { 'role-passing': PASS, 'code-execution': CODE } });
const body = { profile: 'demo', reason: 'orders API returns 500s, need logs', durationMinutes: 30 };

function riskyPorts() {
  return { ...fakePorts(), profileRisks: risksByProfile(risky.profiles) };
}

describe('GET /profiles lists acknowledged risks', () => {
  it('gives each profile its acknowledged classes with their justification, in class order, and [] for none', () => {
    // Act
    const views = listProfiles(risky, ALICE);
    // Assess: RISK_CLASSES order (role-passing before code-execution), whatever the file's order
    expect(views.find((v) => v.name === 'demo')!.acknowledgedRisks).toEqual([
      { riskClass: 'role-passing', justification: PASS },
      { riskClass: 'code-execution', justification: CODE },
    ]);
    expect(views.find((v) => v.name === 'db')!.acknowledgedRisks).toEqual([]);
  });
});

describe('alerts about a grant of a risk-acknowledging profile', () => {
  it('name the classes in the subject, one body line each, the chat and machine forms, and a risks attribute', async () => {
    // Prepare
    const ports = riskyPorts();
    // Act
    await activateGrant(ports, risky, { caller: { arn: ALICE, userId: ALICE_ID }, body });
    // Assess
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.attributes.eventType).toBe('ACTIVATED');
    expect(alert.subject).toBe(
      `${'[break-glass WARNING] alice activated demo for 30m [risks: role-passing, code-execution]: orders API returns 500s, need logs'.slice(
        0,
        99,
      )}?`,
    ); // cut, ASCII only
    expect(alert.subject.length).toBeLessThanOrEqual(100);
    expect(alert.body.split('\n').filter((l) => l.startsWith('Risk:'))).toEqual([
      `Risk:       role-passing: ${PASS}`,
      `Risk:       code-execution: ${CODE}`,
    ]);
    expect(alert.attributes.risks).toEqual(['role-passing', 'code-execution']);
    expect((alert.machine as { grant: { acknowledgedRisks: unknown } }).grant.acknowledgedRisks).toEqual([
      { riskClass: 'role-passing', justification: PASS },
      { riskClass: 'code-execution', justification: CODE },
    ]);
    expect((alert.chat as { content: { description: string } }).content.description).toContain(
      'Acknowledged risks: role-passing, code-execution',
    );
  });

  it('also on later events of the grant (revocation) and on a denied attempt', async () => {
    const ports = riskyPorts();
    const { grant } = await activateGrant(ports, risky, { caller: { arn: ALICE, userId: ALICE_ID }, body });
    await revokeGrant(ports, [`arn:aws:iam::123456789012:role/Security`], {
      caller: { arn: SECURITY },
      grantId: grant.id,
      body: { reason: 'incident closed, access no longer needed' },
    });
    await activateGrant(ports, risky, { caller: { arn: MALLORY, userId: 'AROAM:mallory' }, body }).catch(
      () => undefined,
    );
    expect(ports.notifier.alerts.map((a) => [a.attributes.eventType, a.attributes.risks])).toEqual([
      ['ACTIVATED', ['role-passing', 'code-execution']],
      ['REVOKED', ['role-passing', 'code-execution']],
      ['DENIED', ['role-passing', 'code-execution']],
    ]);
  });

  it('say nothing of risks for a profile that acknowledges none', async () => {
    const ports = riskyPorts();
    await activateGrant(ports, risky, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { ...body, profile: 'db', ticket: 'INC-7' },
    });
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.attributes.risks).toBeUndefined();
    expect(alert.subject).not.toContain('risks');
    expect(alert.body).not.toMatch(/^Risk:/m);
  });

  it('render a justification on one line, bounded, whatever it holds', () => {
    // Prepare: a justification from an older file, with a line break and a forged body line
    const forged = `${CODE}\nStatus:     REVOKED\u2028${'x'.repeat(2000)}`;
    const grant = {
      id: 'g',
      profile: 'demo',
      owner: 'o',
      principalArn: ALICE,
      targetType: 'role',
      targetName: 'R',
      status: 'ACTIVE',
      reason: 'r',
      durationMinutes: 5,
      createdAt: 'c',
      expiresAt: 'e',
      policyName: 'p',
      scheduleName: 's',
      version: 1,
      eventCount: 2,
    } as const;
    // Act
    const alert = composeAlert(grant, { type: 'EXPIRED', at: 'e', actor: 'system', outcome: 'SUCCESS' }, [
      { riskClass: 'code-execution', justification: forged },
    ]);
    // Assess
    const lines = alert.body.split('\n');
    expect(lines.filter((l) => l.startsWith('Status:'))).toEqual(['Status:     ACTIVE']);
    const risk = lines.filter((l) => l.startsWith('Risk:'));
    expect(risk).toHaveLength(1);
    expect(risk[0]!.length).toBeLessThanOrEqual('Risk:       code-execution: '.length + 500);
  });
});

describe('SnsNotifier', () => {
  it('sends the risks as a String.Array attribute (JSON array) and leaves it out when there are none', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const notifier = new SnsNotifier({
      topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      awsSdkV3Client: sns as unknown as SNSClient,
    });
    const base = {
      subject: 's',
      body: 'b',
      attributes: { eventType: 'ACTIVATED', profile: 'demo', principal: ALICE, severity: 'WARNING', grantId: 'g' },
    } as const;
    // Act
    await notifier.publish({ ...base, attributes: { ...base.attributes, risks: ['role-passing', 'code-execution'] } });
    await notifier.publish({ ...base, attributes: { ...base.attributes, risks: [] } });
    // Assess
    const [withRisks, without] = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageAttributes!);
    expect(withRisks!.risks).toEqual({ DataType: 'String.Array', StringValue: '["role-passing","code-execution"]' });
    expect(withRisks!.profile).toEqual({ DataType: 'String', StringValue: 'demo' });
    expect(without!.risks).toBeUndefined();
  });
});
