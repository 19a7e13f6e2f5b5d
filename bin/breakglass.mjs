#!/usr/bin/env node
// The `breakglass` command. The CLI is bundled into dist/ by `npm run build:cli` (run on npm ci/install).
import { main } from '../dist/breakglass.mjs';

await main();
