/**
 * Hostile review (action logging): where a grant's calls are never captured, or captured too late.
 * The Region test is `it.fails`: it describes the gap on the current code (drop `.fails` with the fix).
 *
 * 1. **Other Regions, and global services.** The capture rule exists only in the deployment's Region,
 *    on its default bus. "Both the EventBridge rule and the source event that it monitors must exist in
 *    the same AWS Region", and "AWS global services, such as AWS Identity and Access Management (IAM),
 *    AWS Organizations, and AWS Account Management deliver events only to us-east-1 Region" (AWS
 *    re:Post Knowledge Center, "use-eventbridge-rule-across-regions"; also
 *    "eventbridge-rule-triggers-iam-single-region"). A grant's policy carries no `aws:RequestedRegion`
 *    bound, so a holder who works with `--region ap-southeast-2` — or makes IAM calls, e.g. the
 *    `sts:AssumeRole`/`iam:*` a role-passing profile allows — while the hub is in eu-west-1 leaves no
 *    call under the grant: no ACTIVITY_AFTER_END alert when the access outlives it, an end-of-grant summary
 *    saying "never used", a NO_ACTIVITY finding, and an empty digest sealed at review.
 *    docs/action-logging.md asks for a trail "in every account and Region where grants are used",
 *    which suggests that is enough; it is not. Fix: a forwarding rule (same pattern) on the default bus
 *    of every Region the account uses — at least us-east-1 — targeting the hub Region's default bus
 *    (cross-Region bus targets, same article), deployed by a small per-Region stack or the StackSet
 *    (the spoke forwarding work does the cross-account half); or, failing that, a `Deny` with
 *    `StringNotEquals aws:RequestedRegion` on the captured Regions in every grant policy.
 *
 * 2. **A backlog delayed or dropped calls silently** (fixed: this test failed before). A holder who
 *    floods the capture with cheap read calls (it runs at most 5 functions at once) delays the recording
 *    of their real calls past the end-of-grant summary (15 minutes after the end: announced with what was
 *    captured so far) and a review sealed meanwhile; past the queue's 4-day retention a message is deleted
 *    ("the length of time … for which Amazon SQS retains a message": SQS API reference, CreateQueue,
 *    MessageRetentionPeriod; the SQS Developer Guide, "Setting-up dead-letter queue retention", shows
 *    retention deleting messages), not moved to the DLQ, so the DLQ alarm saw nothing and no alarm
 *    watched the queue's age. Now `breakglass-ActivityBacklog` alarms when the oldest waiting call is as
 *    old as the summary's wait (SETTLE_MINUTES).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../../functions/domain/activity.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { ACTIVITY_QUEUE_NAME } from '../../../infra/constructs/activity-capture.js';
import { app } from '../../infra/templates.js';

type Resource = { Type: string; Properties: Record<string, any> };

let stacks: Stack[];
beforeAll(() => {
  // The test deployment is in eu-west-1 (test/infra/templates.ts).
  stacks = app({}, { bundle: false }).app.node.children.filter((c): c is Stack => Stack.isStack(c));
});

/** Regions whose default bus carries a rule taking CloudTrail API calls of break-glass sessions. */
function capturedRegions(): string[] {
  const regions = new Set<string>();
  for (const stack of stacks) {
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as Resource[];
    if (rules.some((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes(CLOUDTRAIL_DETAIL_TYPE)))
      regions.add(stack.region);
  }
  return [...regions];
}

describe('calls the capture never sees', () => {
  it('the test deployment is in eu-west-1 and captures there', () => {
    expect(capturedRegions()).toEqual(['eu-west-1']);
  });

  it.fails('global services (IAM, STS, Organizations) deliver their events to us-east-1 only: a deployment elsewhere must capture there too', () => {
    expect(capturedRegions()).toContain('us-east-1');
  });

  it('a capture backlog is alarmed before the end-of-grant summary goes out without the waiting calls', () => {
    const withQueue = stacks
      .map((s) => Template.fromStack(s))
      .map((t) => ({
        template: t,
        queues: Object.keys(t.findResources('AWS::SQS::Queue', { Properties: { QueueName: ACTIVITY_QUEUE_NAME } })),
      }))
      .filter((x) => x.queues.length === 1);
    expect(withQueue).toHaveLength(1);
    const { template, queues } = withQueue[0]!;
    const ageAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) =>
        (a as Resource).Properties.MetricName === 'ApproximateAgeOfOldestMessage' &&
        JSON.stringify((a as Resource).Properties.Dimensions).includes(queues[0]!),
    ) as Resource[];
    expect(ageAlarms).toHaveLength(1);
    expect(ageAlarms[0]!.Properties.Threshold).toBeLessThanOrEqual(SETTLE_MINUTES * 60);
    expect(JSON.stringify(ageAlarms[0]!.Properties.AlarmActions)).toMatch(/Alerts/);
  });
});
