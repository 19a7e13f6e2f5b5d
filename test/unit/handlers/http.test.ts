import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../functions/config/env.js';
import {
  ConfigurationError,
  GrantNotFoundError,
  StepFailedError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, jsonBody } from '../../../functions/handlers/http.js';

const event = (extra: Partial<ApiEvent> = {}) =>
  ({ body: null, requestContext: { requestId: 'r-1', identity: {} }, ...extra }) as unknown as ApiEvent;
const wrap = (error: unknown) =>
  middy<ApiEvent, ApiResult>()
    .use(httpErrors())
    .handler(async () => {
      throw error;
    });
const ctx = { awsRequestId: 'aws-1' } as Context;

/** Captures what the Powertools logger writes (its own Console over stdout and stderr), silencing it. */
function captureLogs() {
  const lines: string[] = [];
  const grab = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  return {
    lines,
    mockRestore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

describe('http error mapping', () => {
  it('shows a 4xx as { error: { code, message } }', async () => {
    const res = await wrap(new GrantNotFoundError('No grant x'))(event(), ctx);
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'GrantNotFound', message: 'No grant x', requestId: 'aws-1' },
    });
  });

  it('shows the message of a failed AWS step, which we wrote, as a 503', async () => {
    const res = await wrap(
      new StepFailedError('AttachPolicy', 'Could not attach', { cause: new Error('secret detail') }),
    )(event(), ctx);
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('Could not attach');
    expect(res.body).not.toContain('secret detail');
  });

  it('hides everything else behind a plain 500, logging the details', async () => {
    const spy = captureLogs();
    for (const error of [
      new Error('ECONNREFUSED 10.0.0.1 table=secret'),
      new ConfigurationError(`Environment variable ${ENV.tableName} is required`),
      'a string',
    ]) {
      const res = await wrap(error)(event(), ctx);
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body).error.code).toBe('InternalError');
      expect(res.body).not.toMatch(/ECONNREFUSED|TABLE_NAME|a string|at /);
    }
    const logged = spy.lines.map((line) => JSON.parse(line));
    expect(logged.find((l) => String(l.error).includes('ECONNREFUSED'))).toMatchObject({
      level: 'ERROR',
      message: 'unhandled error',
      requestId: 'aws-1',
    });
    spy.mockRestore();
  });

  it('answers 503 ServiceUnavailable when AWS throttles, times out or fails server-side, without its details', async () => {
    const spy = captureLogs();
    const sdk = (name: string, status: number, extra: object = {}) =>
      Object.assign(new Error(`${name} arn:aws:dynamodb:secret`), {
        name,
        $metadata: { httpStatusCode: status },
        $fault: status >= 500 ? 'server' : 'client',
        ...extra,
      });
    const transient = [
      sdk('ThrottlingException', 400),
      sdk('ProvisionedThroughputExceededException', 400),
      Object.assign(new Error('socket timeout'), { name: 'TimeoutError' }),
      sdk('SyntaxError', 500), // an HTML error page where JSON was expected (moto under load)
      sdk('InternalServerError', 500),
    ];
    for (const error of transient) {
      const res = await wrap(error)(event(), ctx);
      expect(res.statusCode, error.name).toBe(503);
      expect(JSON.parse(res.body).error).toMatchObject({
        code: 'ServiceUnavailable',
        message: expect.stringMatching(/retry in a moment/),
      });
      expect(res.body).not.toContain('secret');
    }
    // A client-side fault of ours (a malformed request to AWS) stays a 500: a retry would not help.
    expect((await wrap(sdk('ValidationException', 400))(event(), ctx)).statusCode).toBe(500);
    spy.mockRestore();
  });
});

describe('request parsing', () => {
  it('requires an authenticated principal', () => {
    expect(() => callerOf(event())).toThrowError(/SigV4/);
    expect(callerOf(event({ requestContext: { identity: { userArn: 'arn:x', caller: 'AROA:x' } } } as never))).toEqual({
      arn: 'arn:x',
      userId: 'AROA:x',
    });
  });

  it('ignores any principal a client puts in a header', () => {
    expect(() =>
      callerOf(event({ headers: { 'x-local-principal': 'arn:aws:sts::123456789012:assumed-role/Admin/x' } } as never)),
    ).toThrowError(/SigV4/);
  });

  it('parses base64 bodies and refuses malformed or oversized ones', () => {
    expect(jsonBody(event({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true }))).toEqual({
      a: 1,
    });
    expect(() => jsonBody(event({ body: '{' }))).toThrowError(ValidationError);
    expect(() => jsonBody(event({ body: `"${'x'.repeat(17_000)}"` }))).toThrowError(/at most 16384 bytes/);
  });
});
