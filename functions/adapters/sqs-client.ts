/**
 * The SQS client and the commands the drill uses, in a module of their own so that the drill's adapters load
 * them on first use (`await import('./sqs-client.js')`), as `sts-client.ts` does for STS: the drill runner reads
 * its inbox and probes only after its grant is active, so SQS is not part of its cold start, and (left out of the
 * bundle, `BUNDLE_EXTERNALS`) it is the runtime's copy of the SDK that is loaded then.
 */
export {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
