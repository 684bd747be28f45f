/**
 * Runbooks benchmark (part of `npm run bench`), measured in one run:
 *
 *  1. listing a repository of 500 runbooks through `GET /api/runbooks` on a real gateway (embedded
 *     store): cold (first call: fetch, read and parse every file) and cached (tip and parsed files
 *     reused), against reading the same 500 files straight from the bare repository with one
 *     `git ls-tree` and one `git cat-file --batch` (the least any reader of that repository pays);
 *  2. parsing and rendering a 100-parameter template, against filling the same `{{ .name }}`
 *     slots with one regular-expression replace (what substitution costs without a template
 *     language).
 *
 * Prints a table and writes bench/out/runbooks.json. Reports; asserts nothing about timings.
 * Knobs: BENCH_RUNBOOKS=500  BENCH_RUNBOOK_LIST_RUNS=20  BENCH_RENDER_RUNS=2000
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseRunbook, renderRunbook } from '../src/runbooks/template/index.js';
import { startCluster, type Cluster } from '../test/support/cluster.js';
import { createTestRepository } from '../test/support/git-server.js';
import { intEnv } from './support.js';

const execFileAsync = promisify(execFile);

const CONFIG = {
  runbooks: intEnv('BENCH_RUNBOOKS', 500),
  listRuns: intEnv('BENCH_RUNBOOK_LIST_RUNS', 20),
  renderRuns: intEnv('BENCH_RENDER_RUNS', 2000),
  renderParameters: 100,
  parseRuns: 200,
};
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A runbook like the ones teams write: a few decorated parameters around a script. */
function runbookSource(index: number): string {
  return [
    `# runbook ${index}: rotate a user's access`,
    `{{- .user_id | required "user id is required" | type "number" | description "The user" | asenv "USER_ID" }}`,
    `{{- .reason | default "routine" | description "Why" | asenv "REASON" }}`,
    `echo "rotating $USER_ID ({{ .region | options "eu" "us" | type "select" }}) because $REASON"`,
    '',
  ].join('\n');
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

async function benchListing(root: string) {
  const files: Record<string, string> = {};
  for (let i = 0; i < CONFIG.runbooks; i++) files[`team-${i % 10}/rotate-${i}.runbook.sh`] = runbookSource(i);
  const repo = await createTestRepository(root, 'many', [{ message: 'runbooks', files }]);

  const direct = await timed(async () => {
    const { stdout } = await execFileAsync('git', ['-C', repo.bareDir, 'ls-tree', '-r', '--name-only', 'main'], { maxBuffer: 64 << 20 });
    const names = stdout.split('\n').filter(Boolean);
    const child = execFile('git', ['-C', repo.bareDir, 'cat-file', '--batch'], { maxBuffer: 256 << 20 });
    const done = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    child.stdin!.end(names.map((n) => `main:${n}\n`).join(''));
    return { names: names.length, bytes: (await done).length };
  });

  const cluster: Cluster = await startCluster('pglite');
  try {
    const configured = await cluster.api('POST', '/api/runbooks/configurations', { git_url: `file://${repo.bareDir}` });
    if (configured.status !== 201) throw new Error(`configuring the repository failed: ${configured.text}`);
    const list = async () => {
      const response = await cluster.api('GET', '/api/runbooks');
      if (response.status !== 200 || response.body.items.length !== CONFIG.runbooks) {
        throw new Error(`listing failed: ${response.status} ${response.text.slice(0, 300)}`);
      }
    };
    const cold = await timed(list);
    const cached: number[] = [];
    for (let i = 0; i < CONFIG.listRuns; i++) cached.push((await timed(list)).ms);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cluster.gateway.child.pid}/status`, 'utf8'))?.[1]);
    return { directMs: direct.ms, directFiles: direct.value.names, coldMs: cold.ms, cachedMedianMs: median(cached), gatewayRssMiB: rssKb / 1024 };
  } finally {
    await cluster.stop();
  }
}

function benchRender() {
  const names = Array.from({ length: CONFIG.renderParameters }, (_, i) => `param_${i}`);
  const source = names.map((name, i) => `echo "{{ .${name} | default "d${i}" | description "parameter ${i}" }}"`).join('\n') + '\n';
  const parameters = Object.fromEntries(names.map((name) => [name, `value-${name}`]));

  const sourceBytes = Buffer.from(source);
  let started = performance.now();
  const parsed = parseRunbook(sourceBytes);
  const firstParseMs = performance.now() - started;
  const parseTimes: number[] = [];
  for (let i = 0; i < CONFIG.parseRuns; i++) {
    started = performance.now();
    parseRunbook(sourceBytes);
    parseTimes.push(performance.now() - started);
  }

  const slot = /\{\{ \.(\w+)[^}]*\}\}/g;
  const baseline = () => source.replace(slot, (_, name: string) => parameters[name] ?? '');
  const expected = baseline();
  const rendered = renderRunbook(parsed, parameters).script.toString('utf8');
  if (rendered !== expected) throw new Error('the template and the baseline disagree on the output');

  const renderTimes: number[] = [];
  const baselineTimes: number[] = [];
  for (let i = 0; i < CONFIG.renderRuns; i++) {
    started = performance.now();
    renderRunbook(parsed, parameters);
    renderTimes.push(performance.now() - started);
    started = performance.now();
    baseline();
    baselineTimes.push(performance.now() - started);
  }
  return { firstParseMs, parseMedianMs: median(parseTimes), renderMedianMs: median(renderTimes), baselineMedianMs: median(baselineTimes), sourceBytes: source.length };
}

const root = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-runbooks-'));
try {
  const listing = await benchListing(root);
  const render = benchRender();
  const rows: [string, string][] = [
    [`listing ${CONFIG.runbooks} runbooks, cold (fetch, read, parse), ms`, listing.coldMs.toFixed(1)],
    [`listing, cached (median of ${CONFIG.listRuns}), ms`, listing.cachedMedianMs.toFixed(1)],
    ['baseline: git ls-tree + cat-file --batch of the same files, ms', listing.directMs.toFixed(1)],
    ['ratio cold / baseline', (listing.coldMs / listing.directMs).toFixed(2)],
    ['ratio cached / baseline', (listing.cachedMedianMs / listing.directMs).toFixed(2)],
    ['gateway RSS after listing, MB', listing.gatewayRssMiB.toFixed(1)],
    [`parse a ${CONFIG.renderParameters}-parameter template (${render.sourceBytes} bytes), first call, ms`, render.firstParseMs.toFixed(3)],
    [`parse it again (median of ${CONFIG.parseRuns}), ms`, render.parseMedianMs.toFixed(3)],
    [`render it (median of ${CONFIG.renderRuns}), ms`, render.renderMedianMs.toFixed(4)],
    ['baseline: one regex replace of the same slots, ms', render.baselineMedianMs.toFixed(4)],
    ['ratio render / baseline', (render.renderMedianMs / render.baselineMedianMs).toFixed(2)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log('\nRunbooks benchmark\n');
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value.padStart(10)}`);
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(path.join(OUT_DIR, 'runbooks.json'), JSON.stringify({ generatedAt: new Date().toISOString(), config: CONFIG, listing, render }, null, 2) + '\n');
  console.log('\nresults: bench/out/runbooks.json');
} finally {
  await rm(root, { recursive: true, force: true });
}
