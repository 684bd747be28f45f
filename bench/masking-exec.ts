/**
 * Masking through a real gateway (part of `npm run bench`): a PostgreSQL-backed cluster (gateway
 * and agent processes) streams the same file of mixed log lines (bench/masking.ts) through `cat`
 * on two connections in the same run: one with no masking (the baseline) and one with every
 * built-in entity type in `redact_types`. Runs alternate, and each figure is the median. Reports
 * end-to-end MB/s, their ratio, the gateway's CPU seconds and its peak RSS during each run.
 *
 * Writes bench/out/masking-exec.json. Reports; asserts nothing about timings.
 * Knobs: BENCH_MASKING_EXEC_MIB=64  BENCH_MASKING_EXEC_ROUNDS=3
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_IN_ENTITY_TYPES } from '../src/masking/index.js';
import { startCluster, type Cluster } from '../test/support/cluster.js';
import { mixedLogChunks } from './masking.js';
import { intEnv, procCpuSeconds, procStatus, resetPeak } from './support.js';

const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

const MIB = intEnv('BENCH_MASKING_EXEC_MIB', 64);
const ROUNDS = intEnv('BENCH_MASKING_EXEC_ROUNDS', 3);

interface RunResult {
  mbPerSecond: number;
  gatewayCpuSeconds: number;
  gatewayPeakRssMiB: number;
  redactions: number;
}

async function streamOnce(cluster: Cluster, connection: string, file: string, bytes: number): Promise<RunResult> {
  const pid = cluster.gateway.child.pid!;
  resetPeak(pid);
  const cpuBefore = procCpuSeconds(pid);
  const started = performance.now();
  const exec = await cluster.exec({ connection, script: `cat ${file}` });
  const seconds = (performance.now() - started) / 1000;
  if (exec.status !== 200 || exec.body.exit_code !== 0) throw new Error(`exec on ${connection} answered ${exec.status}: ${exec.text.slice(0, 300)}`);
  const session = await cluster.api('GET', `/api/sessions/${exec.body.session_id}`);
  return {
    mbPerSecond: bytes / 1e6 / seconds,
    gatewayCpuSeconds: procCpuSeconds(pid) - cpuBefore,
    gatewayPeakRssMiB: (procStatus(pid)?.hwmKb ?? NaN) / 1024,
    redactions: session.body.metrics?.data_masking?.total_redact_count ?? 0,
  };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

function summarize(runs: RunResult[]) {
  return {
    mbPerSecond: median(runs.map((r) => r.mbPerSecond)),
    gatewayCpuSeconds: median(runs.map((r) => r.gatewayCpuSeconds)),
    gatewayPeakRssMiB: Math.max(...runs.map((r) => r.gatewayPeakRssMiB)),
    redactions: runs[0]?.redactions ?? 0,
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-masking-exec-'));
const file = path.join(dir, 'mixed.log');
const chunks = mixedLogChunks();
const bytes = MIB * 1024 * 1024;
await writeFile(file, Buffer.concat(Array.from({ length: bytes / chunks[0]!.length }, (_, i) => chunks[i % chunks.length]!)));
const cluster = await startCluster('postgres', { GATEHOUSE_LOG_LEVEL: 'warn' });
try {
  const agentId = (await cluster.api('GET', '/api/agents/test-agent')).body.id;
  const created = await cluster.api('POST', '/api/connections', {
    name: 'bash-masked',
    type: 'custom',
    command: ['bash'],
    agent_id: agentId,
    redact_types: [...BUILT_IN_ENTITY_TYPES],
  });
  if (created.status !== 201) throw new Error(`creating the masked connection failed: ${created.text}`);
  const plain: RunResult[] = [];
  const masked: RunResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(await streamOnce(cluster, 'bash', file, bytes));
    masked.push(await streamOnce(cluster, 'bash-masked', file, bytes));
  }
  const result = { bytes, rounds: ROUNDS, plain: summarize(plain), masked: summarize(masked), ratio: median(masked.map((m) => m.mbPerSecond)) / median(plain.map((p) => p.mbPerSecond)) };
  const rows: [string, string, string][] = [
    ['end-to-end MB/s (median)', result.plain.mbPerSecond.toFixed(1), result.masked.mbPerSecond.toFixed(1)],
    ['gateway CPU seconds per run (median)', result.plain.gatewayCpuSeconds.toFixed(2), result.masked.gatewayCpuSeconds.toFixed(2)],
    ['gateway peak RSS, MiB', result.plain.gatewayPeakRssMiB.toFixed(0), result.masked.gatewayPeakRssMiB.toFixed(0)],
    ['redactions per run', String(result.plain.redactions), String(result.masked.redactions)],
  ];
  console.log(`\nMasking through gateway and agent (PostgreSQL store): cat of ${MIB} MiB of mixed log lines, ${ROUNDS} rounds\n`);
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`${''.padEnd(width)}  ${'no masking'.padStart(12)}  ${'all types'.padStart(12)}`);
  for (const [label, a, b] of rows) console.log(`${label.padEnd(width)}  ${a.padStart(12)}  ${b.padStart(12)}`);
  console.log(`ratio masked / unmasked MB/s: ${result.ratio.toFixed(2)}`);
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(path.join(OUT_DIR, 'masking-exec.json'), JSON.stringify({ generatedAt: new Date().toISOString(), result }, null, 2) + '\n');
  console.log('\nresults: bench/out/masking-exec.json');
} finally {
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}
