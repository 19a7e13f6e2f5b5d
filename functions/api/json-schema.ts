/**
 * Request bodies as JSON Schema, generated from the zod schemas the functions parse with, for
 * API Gateway's request models and the OpenAPI description.
 *
 * API Gateway models are JSON Schema draft 4 (API Gateway developer guide, "Data models for REST
 * APIs": "API Gateway uses JSON schema draft 4"). zod 4 emits draft 4 (`target: 'draft-4'`); what
 * a schema cannot say (a `refine`, such as the ticket's forbidden characters) is left to the
 * function, which parses with the same zod schema and stays the authority. Only the keywords in
 * {@link ALLOWED_KEYWORDS} pass: a schema that needs another one fails here, at synth and in the
 * tests, instead of reaching API Gateway.
 */
import { z } from 'zod';

/** A JSON Schema as API Gateway and OpenAPI take it (a subset of draft 4). */
export interface RequestJsonSchema {
  readonly type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  readonly properties?: Readonly<Record<string, RequestJsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly (string | number)[];
  readonly pattern?: string;
  readonly description?: string;
  readonly items?: RequestJsonSchema;
}

export const ALLOWED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'enum',
  'pattern',
  'description',
  'items',
]);

/** The draft-4 JSON Schema of a request body schema, without `$schema` (API Gateway's model carries its own). */
export function requestJsonSchema(schema: z.ZodType, name = 'request'): RequestJsonSchema {
  const { $schema: _version, ...raw } = z.toJSONSchema(schema, {
    target: 'draft-4',
    io: 'input',
    unrepresentable: 'throw',
  }) as Record<string, unknown>;
  return clean(raw, name);
}

function clean(node: Record<string, unknown>, path: string): RequestJsonSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!ALLOWED_KEYWORDS.has(key))
      throw new Error(`${path}: JSON Schema keyword "${key}" is not one API Gateway's draft-4 models are given`);
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, clean(v, `${path}.${k}`)]),
      );
    } else if (key === 'items') {
      out[key] = clean(value as Record<string, unknown>, `${path}[]`);
    } else if (
      (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) ||
      (key === 'maximum' && value === Number.MAX_SAFE_INTEGER)
    ) {
      // zod's `.int()` bounds: JavaScript's safe integers, not a rule of the API.
    } else {
      out[key] = value;
    }
  }
  return out as RequestJsonSchema;
}
