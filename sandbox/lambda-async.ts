/**
 * Lambda's asynchronous invocation (`InvocationType: Event`), as EventBridge Scheduler uses it to
 * invoke the expiry function. moto runs no functions, so the sandbox runs the handler itself and
 * models what Lambda does around it:
 *
 * 1. `invoke` only *queues* the event: Lambda answers 202 at once, and that is all the caller
 *    (Scheduler) learns. Scheduler's retry policy and dead-letter queue therefore only cover failures
 *    to invoke (an unknown function, throttling of the Invoke call), never a handler that throws.
 * 2. Lambda runs the handler; when it throws, Lambda retries it twice, "with a one-minute wait between
 *    the first two attempts, and two minutes between the second and third attempts"
 *    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). The delays
 *    are configurable here (`SANDBOX_LAMBDA_RETRY_DELAYS_MS`, default `60000,120000`) so tests need not wait.
 * 3. When every attempt failed, Lambda sends an invocation record to the function's on-failure
 *    destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html):
 *    `version`, `timestamp`, `requestContext` {requestId, functionArn, condition: RetriesExhausted,
 *    approximateInvokeCount}, `requestPayload` (the event), `responseContext` {statusCode, executedVersion,
 *    functionError: Unhandled}, `responsePayload` {errorMessage, errorType, stackTrace}. Here the destination
 *    is an SQS queue in moto, as the stack's is in AWS; if it cannot be reached, Lambda counts a
 *    `DestinationDeliveryFailures` metric: here, a log line.
 *
 * Nothing here throws out of a timer: every attempt and every delivery is caught and logged.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The record Lambda sends to an on-failure destination. */
export interface DestinationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetriesExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: {
    readonly statusCode: 200;
    readonly executedVersion: '$LATEST';
    readonly functionError: 'Unhandled';
  };
  readonly responsePayload: {
    readonly errorMessage: string;
    readonly errorType: string;
    readonly stackTrace: string[];
  };
}

/** What the handler gets as its second argument (the part of Lambda's context our handlers read). */
export interface InvocationContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
}

export type AsyncHandler = (event: unknown, context: InvocationContext) => Promise<unknown>;

/** Lambda's documented defaults: two retries, one minute then two minutes apart. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

/** Parses `SANDBOX_LAMBDA_RETRY_DELAYS_MS`: 0 to 2 comma-separated delays in milliseconds (Lambda retries at most twice). */
export function parseRetryDelays(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_RETRY_DELAYS_MS];
  if (raw.trim() === 'none') return [];
  const delays = raw.split(',').map((part) => Number(part.trim()));
  if (delays.length > 2 || delays.some((d) => !Number.isInteger(d) || d < 0 || d > 3_600_000)) {
    throw new Error(
      `SANDBOX_LAMBDA_RETRY_DELAYS_MS must be "none" or one or two whole numbers of milliseconds (0-3600000) separated by a comma, got "${raw}"`,
    );
  }
  return delays;
}

export interface LambdaAsyncOptions {
  readonly sqs: SQSClient;
  /** Waits before the 2nd, 3rd … attempt; its length is the number of retries. @default DEFAULT_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  readonly log?: (line: string) => void;
}

interface Registered {
  readonly handler: AsyncHandler;
  readonly onFailureArn?: string;
  /** The function's `MaximumRetryAttempts` (PutFunctionEventInvokeConfig), 0 to 2. @default the delays given */
  readonly retryAttempts?: number;
}

/** Thrown by `invoke` for an unknown function: the one failure the invoking service (Scheduler) sees. */
export class FunctionNotFoundError extends Error {
  override readonly name = 'ResourceNotFoundException';
}

export class LambdaAsync {
  private readonly functions = new Map<string, Registered>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelaysMs: readonly number[];
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(private readonly options: LambdaAsyncOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.log = options.log ?? (() => {});
  }

  /** A function and, optionally, the ARN of its on-failure destination (an SQS queue). */
  register(
    functionArn: string,
    handler: AsyncHandler,
    options: { onFailureArn?: string; retryAttempts?: number } = {},
  ): void {
    this.functions.set(functionArn, {
      handler,
      ...(options.onFailureArn ? { onFailureArn: options.onFailureArn } : {}),
      ...(options.retryAttempts !== undefined ? { retryAttempts: options.retryAttempts } : {}),
    });
  }

  /** `Invoke` with `InvocationType: Event`: queues the event and returns its request id (Lambda's 202). */
  invoke(functionArn: string, payload: unknown): { requestId: string; statusCode: 202 } {
    const fn = this.functions.get(functionArn);
    if (!fn) throw new FunctionNotFoundError(`Function not found: ${functionArn}`);
    if (this.stopped) throw new Error('The sandbox is stopping');
    const requestId = randomUUID();
    this.attempt(functionArn, fn, payload, requestId, 1, 0);
    return { requestId, statusCode: 202 };
  }

  /** Resolves when no attempt is running or waiting to be retried (for tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size || this.timers.size) {
      if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Drops pending retries (as stopping the sandbox loses Lambda's queue) and waits for running attempts. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private attempt(
    functionArn: string,
    fn: Registered,
    payload: unknown,
    requestId: string,
    attempt: number,
    delayMs: number,
  ): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.run(functionArn, fn, payload, requestId, attempt).catch((error: unknown) =>
        this.log(`[lambda] internal error in the sandbox's Lambda stand-in: ${describe(error)}`),
      );
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }, delayMs);
    this.timers.add(timer);
  }

  private async run(
    functionArn: string,
    fn: Registered,
    payload: unknown,
    requestId: string,
    attempt: number,
  ): Promise<void> {
    const functionName = functionArn.split(':').pop() ?? functionArn;
    try {
      await fn.handler(payload, { awsRequestId: requestId, functionName, invokedFunctionArn: functionArn });
      if (attempt > 1) this.log(`[lambda] ${functionName} ${requestId} succeeded on attempt ${attempt}`);
      return;
    } catch (error) {
      if (this.stopped) {
        this.log(
          `[lambda] ${functionName} ${requestId} attempt ${attempt} failed while the sandbox stops: ${describe(error)}`,
        );
        return;
      }
      const retryIn = attempt <= (fn.retryAttempts ?? 2) ? this.retryDelaysMs[attempt - 1] : undefined;
      if (retryIn !== undefined) {
        this.log(
          `[lambda] ${functionName} ${requestId} attempt ${attempt} failed: ${describe(error)}; Lambda retries in ${retryIn} ms`,
        );
        this.attempt(functionArn, fn, payload, requestId, attempt + 1, retryIn);
        return;
      }
      this.log(
        `[lambda] ${functionName} ${requestId} attempt ${attempt} failed: ${describe(error)}; retries exhausted`,
      );
      await this.toDestination(fn, destinationRecord(functionArn, requestId, attempt, payload, error), functionName);
    }
  }

  private async toDestination(fn: Registered, record: DestinationRecord, functionName: string): Promise<void> {
    if (!fn.onFailureArn) {
      this.log(
        `[lambda] ${functionName} ${record.requestContext.requestId} has no on-failure destination: the event is dropped`,
      );
      return;
    }
    try {
      const [, , , region, account, queueName] = fn.onFailureArn.split(':');
      if (!queueName || !account || !region) throw new Error(`not an SQS queue ARN: ${fn.onFailureArn}`);
      const { QueueUrl } = await this.options.sqs.send(
        new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: account }),
      );
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(record) }));
      this.log(
        `[lambda] ${functionName} ${record.requestContext.requestId} invocation record sent to ${fn.onFailureArn}`,
      );
    } catch (error) {
      this.log(
        `[lambda] DestinationDeliveryFailures: ${functionName} ${record.requestContext.requestId} could not reach ${fn.onFailureArn}: ${describe(error)}`,
      );
    }
  }
}

/** The on-failure invocation record, as Lambda documents it. */
export function destinationRecord(
  functionArn: string,
  requestId: string,
  attempts: number,
  payload: unknown,
  error: unknown,
  now = new Date(),
): DestinationRecord {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    version: '1.0',
    timestamp: now.toISOString(),
    requestContext: {
      requestId,
      functionArn: `${functionArn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts,
    },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorMessage: err.message,
      errorType: err.name,
      stackTrace: (err.stack ?? '')
        .split('\n')
        .slice(1)
        .map((l) => l.trim()),
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
