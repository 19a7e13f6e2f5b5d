/**
 * The kill switch, for security principals: `GET /freeze` (state), `POST /freeze` and
 * `POST /unfreeze` `{profile?, reason}`, `POST /revoke-all` `{profile?, reason}`.
 */
import type { Context } from 'aws-lambda';
import { ROUTES } from '../api/routes.js';
import { revokeAll, setFreeze } from '../domain/kill-switch.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, jsonBody, requestIdOf } from './http.js';
import { NotFoundRouteError } from './routes.js';
import { allPorts, frozenProfiles, profiles, securityPrincipals } from './wiring.js';

const ports = allPorts();
const profileSet = profiles();
const security = securityPrincipals();
// Only the configured freeze: the kill switch writes no policy, so it needs no PROTECTED_RESOURCES (Lambda's 4 KB env).
const rules = { frozenByConfig: frozenProfiles() };

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const caller = callerOf(event);
  // The route table says which operation this method and resource are.
  const operation = ROUTES.find(
    (r) => r.function === 'killSwitch' && r.method === event.httpMethod && r.path === event.resource,
  )?.operationId;
  switch (operation) {
    case 'getFreeze': {
      const state = await ports.control.freezeState();
      return json(200, { freeze: state, frozenByConfig: rules.frozenByConfig });
    }
    case 'freeze':
    case 'unfreeze': {
      const state = await setFreeze(
        ports,
        profileSet,
        security,
        { caller, body: jsonBody(event) },
        operation === 'freeze',
      );
      return json(200, { freeze: state, frozenByConfig: rules.frozenByConfig });
    }
    case 'revokeAll': {
      const requestId = requestIdOf(event);
      const results = await revokeAll(ports, security, {
        caller,
        body: jsonBody(event),
        ...(requestId ? { requestId } : {}),
      });
      const failed = results.filter((r) => r.outcome === 'failed').length;
      return json(failed ? 207 : 200, { revoked: results.length - failed, failed, results });
    }
    default:
      throw new NotFoundRouteError(`No route ${event.httpMethod} ${event.resource}`);
  }
};

export const handler = httpHandler(lambdaHandler);
