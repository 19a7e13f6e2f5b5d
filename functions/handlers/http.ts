/**
 * The HTTP edge shared by every API handler: the one place errors become responses, the
 * caller identity API Gateway authenticated, and a bounded JSON body parser.
 */
import type { MiddlewareObj } from '@middy/core';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Caller } from '../domain/activate-grant.js';
import {
  BreakGlassError,
  BusyError,
  PayloadTooLargeError,
  StepFailedError,
  UnauthenticatedError,
  ValidationError,
} from '../domain/errors.js';
import { domainLog as log } from './observability.js';

export type ApiEvent = APIGatewayProxyEvent;
export type ApiResult = APIGatewayProxyResult;

/** Largest request body accepted (a reason is at most 1,000 characters; this leaves room for JSON). */
export const MAX_BODY_BYTES = 16 * 1024;

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: HEADERS, body: JSON.stringify(body) };
}

/**
 * Maps errors to responses: a 4xx (and a 503 for a failed AWS step, whose message we wrote)
 * shows its message as `{ error: { code, message } }`; anything else is a plain 500 whose
 * details go to the log only.
 */
export function httpErrors(): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      const requestId = request.context?.awsRequestId ?? request.event?.requestContext?.requestId;
      if (
        error instanceof BreakGlassError &&
        (error.statusCode < 500 || error instanceof StepFailedError || error instanceof BusyError)
      ) {
        if (error.statusCode >= 500)
          log.error({ msg: error.message, code: error.code, requestId, cause: describe(error.cause) });
        request.response = json(error.statusCode, {
          error: { code: error.code, message: error.message, ...(requestId ? { requestId } : {}) },
        });
        return;
      }
      if (isTransientAwsError(error)) {
        // Throttled, timed out or a 5xx from AWS, before any step this request could record: say so, and that a retry is the fix.
        log.error({ msg: 'AWS unavailable', requestId, error: describe(error) });
        request.response = json(503, {
          error: {
            code: 'ServiceUnavailable',
            message: `An AWS service behind break-glass is throttling or not answering right now (${(error as Error).name}); retry in a moment.`,
            ...(requestId ? { requestId } : {}),
          },
        });
        return;
      }
      log.error({
        msg: 'unhandled error',
        requestId,
        error: describe(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      request.response = json(500, {
        error: {
          code: 'InternalError',
          message: 'Internal error. Nothing in this response explains it; the request id finds it in the logs.',
          ...(requestId ? { requestId } : {}),
        },
      });
    },
  };
}

/**
 * An AWS SDK error that a retry may clear: throttling, a timeout, a network reset, or a server-side
 * fault. Classified by the SDK's own rules (`@smithy/core/retry`, what its retry strategy uses).
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

function describe(error: unknown): string | undefined {
  return error === undefined ? undefined : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The IAM principal API Gateway authenticated (AWS_IAM authorization). Never read from the body or a header. */
export function callerOf(event: ApiEvent): Caller {
  const identity = event.requestContext?.identity;
  const arn = identity?.userArn;
  if (!arn)
    throw new UnauthenticatedError(
      'No authenticated IAM principal: sign the request with SigV4 (AWS_IAM authorization)',
    );
  return { arn, ...(identity.caller ? { userId: identity.caller } : {}) };
}

/** Parses a JSON body of bounded size. Malformed JSON is a 400 naming the problem, never a 500. */
export function jsonBody(event: ApiEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '')
    throw new ValidationError('A JSON body is required');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES)
    throw new PayloadTooLargeError(`The request body must be at most ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON');
  }
}

export function requestIdOf(event: ApiEvent): string | undefined {
  return event.requestContext?.requestId;
}
