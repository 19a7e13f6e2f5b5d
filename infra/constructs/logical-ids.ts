/**
 * Keeps the logical IDs a construct's resources had before it was split out of its parent.
 *
 * The functions, API and schedules were once direct children of `BreakGlassService`; their
 * resources carry fixed names (`breakglass-create-grant`, `/aws/lambda/…`, the `breakglass`
 * schedule group, the rules). A new logical ID makes CloudFormation create the replacement
 * before deleting the old resource, which fails on a taken name: an upgrade would not deploy.
 * So each split-out construct hides its own id from its resources' logical IDs, exactly as CDK
 * hides an id of `Default` (CDK's `makeUniqueId`: the path from the stack, `Default` components
 * dropped, the human part of the components that do not repeat their predecessor's ending,
 * `Resource` left out of it, then the first 8 hex digits of the MD5 of the path joined by `/`).
 * `test/infra/logical-ids.test.ts` checks the algorithm against CDK's own on a fresh stack.
 */
import { createHash } from 'node:crypto';
import { Aspects, CfnElement, CfnResource, type IAspect, Stack } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';

/** CDK's logical ID of a path of construct ids below the stack. */
export function logicalIdOf(components: readonly string[]): string {
  const path = components.filter((c) => c !== 'Default');
  if (path.length === 0) throw new Error('logicalIdOf: an empty path');
  const alnum = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
  if (path.length === 1 && alnum(path[0]!).length <= 240) return alnum(path[0]!);
  const hash = createHash('md5').update(path.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of path) if (human.length === 0 || !human[human.length - 1]!.endsWith(c)) human.push(c);
  return (
    human
      .filter((c) => c !== 'Resource')
      .map(alnum)
      .join('')
      .slice(0, 240) + hash
  );
}

/** Every CloudFormation element under `construct` gets the logical ID it would have without `construct`'s own id in its path. */
export function hideFromLogicalIds(construct: Construct): void {
  const aspect: IAspect = {
    visit(node: IConstruct) {
      if (!CfnElement.isCfnElement(node)) return;
      // An API deployment's logical ID carries a hash of the API (CDK's own override), so that a changed
      // API gets a new deployment: it must stay CDK's.
      if (CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::ApiGateway::Deployment') return;
      const stack = Stack.of(node);
      const scopes = node.node.scopes;
      const below = scopes.slice(scopes.indexOf(stack) + 1).filter((s) => s !== construct);
      node.overrideLogicalId(logicalIdOf(below.map((s) => s.node.id)));
    },
  };
  Aspects.of(construct).add(aspect);
}
