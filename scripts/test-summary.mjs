#!/usr/bin/env node
// Prints the closing line CI reads ("tests: N passed, N failed") from vitest's JSON reports
// (the main suite and the load test), and fails when any test failed or none ran.
import { existsSync, readFileSync } from 'node:fs';

const files = process.argv.slice(2).length ? process.argv.slice(2) : ['.vitest/results.json'];
let passed = 0,
  failed = 0,
  skipped = 0,
  total = 0;
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`no test report at ${file}: that run did not finish`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.success === false && report.numFailedTests === 0 ? 1 : 0);
  skipped += report.numPendingTests + report.numTodoTests;
  total += report.numTotalTests;
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || total === 0 ? 1 : 0);
