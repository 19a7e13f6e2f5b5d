/**
 * Hostile review (action logging): where a grant's calls are never captured. Both tests are
 * `it.fails`: they describe the gap on the current code and turn green-to-red once it is closed
 * (then drop `.fails`).
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
 * 2. **A backlog drops calls silently.** The activity queue keeps messages 4 days; a message that
 *    outlives its retention is deleted ("the length of time … for which Amazon SQS retains a message …
 *    1,209,600 seconds (14 days)" at most: SQS API reference, CreateQueue, MessageRetentionPeriod; the SQS
 *    Developer Guide, "Setting-up dead-letter queue retention", shows retention deleting messages), not
 *    moved to the DLQ (the DLQ alarm sees nothing), and no alarm
 *    watches the queue's age. A holder who floods the capture with cheap read calls (the capture runs at
 *    most 5 functions at once) delays the recording of their real calls past the end-of-grant summary
 *    (15 minutes after the end: announced with what was captured so far) and, if the flood lasts, past the
 *    retention. Fix: retention 14 days (SQS maximum) and an alarm on `ApproximateAgeOfOldestMessage`
 *    above the summary's settle time, sent to the topic.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../../functions/domain/activity.js';
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

  it.fails('a capture backlog is alarmed before calls are lost: 14-day retention and an alarm on the oldest message age', () => {
    const withQueue = stacks
      .map((s) => Template.fromStack(s))
      .map((t) => ({
        template: t,
        queues: Object.entries(t.findResources('AWS::SQS::Queue', { Properties: { QueueName: ACTIVITY_QUEUE_NAME } })),
      }))
      .filter((x) => x.queues.length === 1);
    expect(withQueue).toHaveLength(1);
    const { template, queues } = withQueue[0]!;
    const [queueId, queue] = queues[0] as [string, Resource];
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const ageAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) =>
        (a as Resource).Properties.MetricName === 'ApproximateAgeOfOldestMessage' &&
        JSON.stringify((a as Resource).Properties.Dimensions).includes(queueId),
    );
    expect(ageAlarms).toHaveLength(1);
  });
});
