/**
 * Module initialisation of every deployed function from several source trees, interleaved run by run, so that a
 * change can be compared with its parent in the same sitting on a busy machine (docs/benchmark.md, Module
 * initialisation). Each tree is a checkout holding `functions/` and `config/` (e.g. `git archive <commit> functions
 * config | tar -x -C /tmp/before`, with `node_modules` linked to this one's); the bundling options are this tree's.
 *
 *   INIT_TREES=before=/tmp/before,after=. INIT_RUNS=11 [INIT_ONLY=create-grant,sweep] npx tsx bench/compare-init.ts
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { bundleFunction, deployedFunctions, initOnce, median, STAND_IN_ENV } from './bundles.js';

const trees = (process.env.INIT_TREES ?? `after=${process.cwd()}`).split(',').map((t) => {
  const [label, root] = t.split('=');
  if (!label || !root) throw new Error(`INIT_TREES: "${t}" is not label=path`);
  return { label, root: resolve(root) };
});
const runs = Number(process.env.INIT_RUNS ?? 11);
const only = process.env.INIT_ONLY?.split(',');
const functions = deployedFunctions().filter((f) => !only || only.includes(f.name));

const files = new Map<string, string>();
const key = (label: string, name: string) => `${label}/${name}`;
for (const { label, root } of trees) {
  const out = mkdtempSync(join(tmpdir(), `init-${label}-`));
  for (const f of functions)
    files.set(
      key(label, f.name),
      await bundleFunction({ ...f, entry: join(root, relative(process.cwd(), f.entry)) }, out),
    );
}
const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
for (let run = 0; run < runs; run++)
  for (const f of functions)
    for (const { label } of trees) {
      const k = key(label, f.name);
      const t = initOnce(files.get(k)!, { ...STAND_IN_ENV, ...f.fn.baseEnvironment });
      wall.set(k, [...(wall.get(k) ?? []), t.wallMs]);
      cpu.set(k, [...(cpu.get(k) ?? []), t.cpuMs]);
    }
const cols = trees.map(({ label }) => `${label} KiB | ${label} init CPU ms | ${label} init wall ms`);
process.stdout.write(`| function | ${cols.join(' | ')} |\n|---|${cols.map(() => '---|---|---|').join('')}\n`);
for (const f of functions) {
  const cells = trees.map(({ label }) => {
    const k = key(label, f.name);
    return `${(statSync(files.get(k)!).size / 1024).toFixed(0)} | ${median(cpu.get(k)!).toFixed(1)} | ${median(wall.get(k)!).toFixed(1)}`;
  });
  process.stdout.write(`| ${f.name} | ${cells.join(' | ')} |\n`);
}
const os = await import('node:os');
process.stdout.write(
  `\n${runs} runs, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
