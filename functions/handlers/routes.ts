/** A request reached a function that does not serve its route (a deployment mistake). */
import { BreakGlassError } from '../domain/errors.js';

export class NotFoundRouteError extends BreakGlassError {
  readonly code = 'NotFound';
  readonly statusCode = 404;
}
