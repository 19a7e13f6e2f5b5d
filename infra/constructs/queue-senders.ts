/**
 * Who may put messages on a queue fed by an AWS service: a Deny of `sqs:SendMessage` to everyone unless the
 * request's `aws:SourceArn` is one of the feeding resources (an EventBridge rule, an SNS topic).
 *
 * Without it, any principal whose own (identity) policy allows `sqs:SendMessage` on the queue — an
 * administrator of the hub, a function role with `sqs:*` — can put a forged CloudTrail call on the activity
 * queue, or a forged alert on the drills inbox (a drill then passes while alerting is broken). A Deny in the
 * queue's policy wins over any Allow.
 *
 * AWS contracts this relies on (moto does not evaluate queue policies):
 * - `aws:SourceArn` is set by the service that calls another on the resource owner's behalf, never by a
 *   caller ("the aws:SourceAccount condition key is only available when the call to your resource is made
 *   directly by an AWS service principal", IAM User Guide, "AWS global condition context keys"; the same
 *   page's Availability for aws:SourceArn);
 * - EventBridge sets it to the rule's ARN when it delivers to an SQS target ("aws:SourceArn: the ARN of the
 *   rule that sent the event", EventBridge User Guide, "Using IAM policy conditions"; the queue-policy example
 *   of "Using resource-based policies for Amazon EventBridge", Amazon SQS permissions);
 * - SNS sets it to the topic's ARN when it delivers to a subscribed queue (the queue policy SNS's
 *   SubscribeQueue writes: `ArnLike aws:SourceArn <topic arn>`, SNS Developer Guide / SDK SubscribeQueue);
 * - a negated operator on a key absent from the request is true ("If the policy condition requires that the
 *   key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
 *   is true", IAM User Guide, "Condition operators"): a principal's own SendMessage carries no aws:SourceArn,
 *   so it is denied;
 * - moving a message to the dead-letter queue after `maxReceiveCount` is SQS's own doing (the redrive
 *   policy), not a SendMessage on the source queue: unaffected.
 */
import { ArnPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

/** The statement id of the Deny, for tests and readers of the deployed policy. */
export const ONLY_FROM_SOURCES_SID = 'BreakGlassOnlyFromItsSources';

/** Adds the Deny to `queue`'s resource policy: `sqs:SendMessage` only with `aws:SourceArn` among `sources`. */
export function onlyFromSources(queue: IQueue, sources: readonly string[]): PolicyStatement {
  const statement = new PolicyStatement({
    sid: ONLY_FROM_SOURCES_SID,
    effect: Effect.DENY,
    principals: [new ArnPrincipal('*')],
    actions: ['sqs:SendMessage'],
    resources: [queue.queueArn],
    // Several values under a negated operator: denied when the key matches none of them (IAM User Guide,
    // "Conditions with multiple context keys or values": "a single negated matching condition operator
    // includes multiple values … evaluated using a logical NOR").
    conditions: { ArnNotEquals: { 'aws:SourceArn': [...sources] } },
  });
  queue.addToResourcePolicy(statement);
  return statement;
}
