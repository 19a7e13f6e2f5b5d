/**
 * Each route is declared in exactly one place: its path appears as a string literal in the route table
 * (`functions/api/routes.ts`) and in no other source file of the functions, the stacks, the sandbox or the
 * CLI; they reach a route through the table (`ROUTES`, `routeOf`, `callRoute`). Literals are read with the
 * TypeScript parser, so comments and prose that mention a route do not count, and a template such as
 * `` `/drills/${id}` `` counts as `/drills/{id}`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../functions/api/routes.js';

const SOURCE_DIRS = ['functions', 'infra', 'sandbox', 'cli'];
const TABLE = join('functions', 'api', 'routes.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A path with its parameters blanked (`/grants/{id}/revoke` → `/grants/{}/revoke`). */
const shape = (path: string) => path.replace(/\{\w*\}/g, '{}');

/**
 * The route paths a source text names in its string literals: a literal's text (a template's
 * substitutions as `{}`, anything from `?` on dropped, and a trailing `{}` after a route — a query string —
 * ignored) that is the shape of a route path.
 */
function routePathsIn(source: string, fileName = 'source.ts'): string[] {
  const paths = new Map(ROUTES.map((r) => [shape(r.path), r.path]));
  const found: string[] = [];
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const consider = (text: string) => {
    const bare = shape(text).split('?')[0]!;
    const path = paths.get(bare) ?? paths.get(bare.replace(/\{\}$/, ''));
    if (path) found.push(path);
  };
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) consider(node.text);
    else if (ts.isTemplateExpression(node))
      consider(node.head.text + node.templateSpans.map((s) => `{}${s.literal.text}`).join(''));
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('route paths', () => {
  it('are found in literals and templates, not in comments (the check below can fail)', () => {
    const source = `
// GET /drills/{id} and \`/freeze\` in a comment are not declarations
const a = call('GET', '/drills');
const b = call("GET", \`/drills/\${encodeURIComponent(id)}\`);
const c = call("GET", \`/grants/\${id}/activity?limit=20\`);
const d = call("GET", \`/grants/\${id}/activity\${query}\`);
const e = 'break-glass: POST /drills';
const f = { resource: '/grants/{id}/revoke' };
`;
    expect(routePathsIn(source).sort()).toEqual(
      ['/drills', '/drills/{id}', '/grants/{id}/activity', '/grants/{id}/activity', '/grants/{id}/revoke'].sort(),
    );
  });

  it('are each declared in exactly one source file: the route table', () => {
    // Prepare
    const files = SOURCE_DIRS.flatMap(sourceFiles);
    expect(files).toContain(TABLE);
    // Act
    const declaredIn = new Map<string, Set<string>>();
    for (const file of files)
      for (const path of routePathsIn(readFileSync(file, 'utf8'), file))
        declaredIn.set(path, (declaredIn.get(path) ?? new Set()).add(file));
    // Assess: every route, the drills' included, is named by the table and by nothing else.
    expect(ROUTES.map((r) => r.path)).toEqual(expect.arrayContaining(['/drills', '/drills/{id}']));
    for (const route of ROUTES) expect([...(declaredIn.get(route.path) ?? [])], route.path).toEqual([TABLE]);
  });
});
