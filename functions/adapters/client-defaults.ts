/**
 * Settings every default SDK client gets. The SDK sets no request timeout of its own (and,
 * without `throwOnRequestTimeout`, only logs one): a hung connection would hold a break-glass
 * step until the Lambda itself times out, with nothing recorded. A bounded, thrown timeout
 * makes it a failed step instead: retried by the SDK, then rolled back and recorded.
 *
 * `BREAKGLASS_AWS_TIMEOUT_MS` (default 5,000) bounds each request, and separately the wait for its
 * connection; tests lower it (fault injection) or raise it (hundreds of simulated Lambdas sharing one
 * process's connection pool).
 */
import { ENV } from '../config/env.js';
export function clientDefaults(env: NodeJS.ProcessEnv = process.env) {
  const configured = Number(env[ENV.awsTimeoutMs] ?? 5_000);
  const requestTimeout = Number.isFinite(configured) && configured > 0 ? configured : 5_000;
  return {
    requestHandler: { requestTimeout, throwOnRequestTimeout: true, connectionTimeout: requestTimeout },
  };
}
