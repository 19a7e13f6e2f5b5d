/**
 * The two handler factories: every function is `httpHandler(lambdaHandler)` or
 * `jobHandler(name, lambdaHandler, correlationOf)`, so the middleware chain is declared here once.
 *
 * HTTP: Lambda context and correlation id (API Gateway's request id) on every log line →
 * lower-cased headers → errors mapped to responses (`http.ts`, unchanged).
 * Jobs (schedules, asynchronous invocations, queues): Lambda context and correlation id (the
 * grant id when the event names one, else the event's or the invocation's id) → one structured
 * `job failed` error line, then the error is thrown on to Lambda (its retries, `Errors` metric and
 * on-failure destination depend on it).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { type ApiEvent, type ApiResult, httpErrors } from './http.js';
import { logger } from './observability.js';

/** Sets the logger's `correlation_id` for this invocation (cleared after it by `resetKeys`). */
function correlationId<E, R>(of: (event: E, context: Context) => string | undefined): MiddlewareObj<E, R> {
  return {
    before: (request) => {
      const id = of(request.event, request.context);
      if (id) logger.setCorrelationId(id);
    },
  };
}

function jobErrors<E, R>(job: string): MiddlewareObj<E, R> {
  return {
    onError: (request) => {
      const error = request.error;
      logger.error('job failed', {
        job,
        error:
          error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
      // No response set: middy throws the error on to Lambda.
    },
  };
}

export type LambdaHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/** An API Gateway (REST, proxy integration) handler; `correlation_id` is API Gateway's request id. */
export function httpHandler(lambdaHandler: LambdaHandler<ApiEvent, ApiResult>) {
  return middy<ApiEvent, ApiResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(correlationId<ApiEvent, ApiResult>((event) => event?.requestContext?.requestId))
    .use(httpHeaderNormalizer())
    .use(httpErrors())
    .handler(lambdaHandler);
}

/**
 * The correlation id of a job's event: its `grantId` (expiry schedules), else its `id` (EventBridge
 * events), else the invocation's request id.
 */
export function jobCorrelationId(event: unknown, context: Context): string | undefined {
  const fields = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {};
  for (const value of [fields.grantId, fields.id])
    if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
  return context?.awsRequestId;
}

/** A scheduled, asynchronous or queue-triggered handler named `job` in its logs. */
export function jobHandler<E, R>(
  job: string,
  lambdaHandler: LambdaHandler<E, R>,
  correlationOf: (event: E, context: Context) => string | undefined = jobCorrelationId,
) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(correlationId(correlationOf))
    .use(jobErrors(job))
    .handler(lambdaHandler);
}
