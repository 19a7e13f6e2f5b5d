/**
 * `npm run openapi`: writes docs/openapi.json and docs/reference-api.md from the route table.
 * `--check` writes nothing and fails when either file is not what the table generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiReference, openApiDocument } from '../functions/api/openapi.js';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const files = {
  [join(docs, 'openapi.json')]: `${JSON.stringify(openApiDocument(), null, 2)}\n`,
  [join(docs, 'reference-api.md')]: apiReference(),
};
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of Object.entries(files)) {
  if (!check) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
    continue;
  }
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    stale++;
    console.error(`${file} is not what the route table generates; run npm run openapi`);
  }
}
process.exit(stale ? 1 : 0);
