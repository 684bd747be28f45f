/**
 * Native PostgreSQL access under pgbench (part of `npm run bench`): the same pgbench runs against
 * the machine's PostgreSQL directly (the baseline) and through a PostgreSQL-store cluster (gateway
 * and agent processes; every session is recorded, there is no way to turn that off), in the same
 * run. Workloads: select-only and TPC-B-like in simple query mode, and select-only with `-M
 * prepared` (extended protocol). Each pair runs BENCH_PGBENCH_ROUNDS times, alternating which side
 * goes first so neither always meets a warmer cache, after a short warm-up of both; figures are
 * medians. Reports TPS, the gateway/direct ratio, p50/p99 latency from pgbench's per-transaction
 * logs, and the gateway's and agent's CPU per 1k transactions and peak RSS. For scale, select-only
 * also goes through two chained plain TCP pipe processes: what two relaying processes cost on
 * this machine before any gRPC, parsing or recording.
 *
 * Writes bench/out/pgbench.json. Reports; asserts nothing (the select-only target is printed).
 * Needs PostgreSQL on 127.0.0.1:5432 with trust auth for `postgres`, and pgbench + psql on PATH.
 * Knobs: BENCH_PGBENCH_SCALE=10  BENCH_PGBENCH_CLIENTS=8  BENCH_PGBENCH_SECONDS=10
 * BENCH_PGBENCH_ROUNDS=2  BENCH_PGBENCH_WARMUP_SECONDS=2
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64, freePort, startCluster, type Cluster } from '../test/support/cluster.js';
import { intEnv, procCpuSeconds, procStatus, resetPeak } from './support.js';

const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
const CONFIG = {
  scale: intEnv('BENCH_PGBENCH_SCALE', 10),
  clients: intEnv('BENCH_PGBENCH_CLIENTS', 8),
  seconds: intEnv('BENCH_PGBENCH_SECONDS', 10),
  rounds: intEnv('BENCH_PGBENCH_ROUNDS', 2),
  warmupSeconds: intEnv('BENCH_PGBENCH_WARMUP_SECONDS', 2),
  threads: 2,
};
const DATABASE = 'gatehouse_bench';
const CONNECTION = 'bench-pg';
const SELECT_ONLY_RATIO_TARGET = 0.6;
const WORKLOADS = [
  { key: 'selectOnlySimple', label: 'select-only, simple', args: ['-S', '-M', 'simple'] },
  { key: 'tpcbSimple', label: 'TPC-B-like, simple', args: ['-M', 'simple'] },
  { key: 'selectOnlyPrepared', label: 'select-only, prepared', args: ['-S', '-M', 'prepared'] },
];

interface Target {
  side: 'direct' | 'gateway';
  connArgs: string[];
  env: Record<string, string>;
}

interface RunResult {
  tps: number;
  transactions: number;
  p50Ms: number;
  p99Ms: number;
  /** Gateway runs only: CPU used and peak RSS of the gateway and agent processes during the run. */
  gatewayCpuSeconds?: number;
  agentCpuSeconds?: number;
  gatewayPeakRssMiB?: number;
  agentPeakRssMiB?: number;
}

/** Runs a command; rejects with its exit status and stderr, which is what we want to report. */
function run(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    // PATH/HOME only: a PGHOST/PGUSER/PGPASSWORD from the caller's shell must not change the target.
    const fullEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PGCONNECT_TIMEOUT: '20', ...env };
    execFile(command, args, { env: fullEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${(stderr || stdout).trim().slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

const psqlAdmin = (...statements: string[]) =>
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres', ...statements.flatMap((s) => ['-c', s])]);

const median = (values: number[]): number => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  return n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
};

/** p50/p99 (nearest rank, in ms) over every per-transaction log pgbench wrote, one file per thread. */
async function logLatencies(dir: string): Promise<{ p50Ms: number; p99Ms: number; count: number }> {
  const micros: number[] = [];
  for (const name of await readdir(dir)) {
    for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n')) {
      // client_id transaction_no time script_no time_epoch time_us; `time` is "skipped"/"failed" for those.
      const us = Number(line.split(' ')[2]);
      if (line && Number.isFinite(us)) micros.push(us);
    }
  }
  const sorted = Float64Array.from(micros).sort();
  const rank = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! / 1000 : NaN);
  return { p50Ms: rank(0.5), p99Ms: rank(0.99), count: sorted.length };
}

async function pgbench(target: Target, workloadArgs: string[], seconds: number, cluster?: Cluster): Promise<RunResult> {
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-pgbench-log-'));
  const pids = cluster ? { gateway: cluster.gateway.child.pid!, agent: cluster.agent.child.pid! } : undefined;
  try {
    if (pids) for (const pid of Object.values(pids)) resetPeak(pid);
    const cpuBefore = pids && { gateway: procCpuSeconds(pids.gateway), agent: procCpuSeconds(pids.agent) };
    const args = ['-n', '-c', String(CONFIG.clients), '-j', String(CONFIG.threads), '-T', String(seconds), ...workloadArgs];
    const stdout = await run('pgbench', [...args, '-l', '--log-prefix', path.join(logDir, 'x'), ...target.connArgs], target.env, (seconds + 120) * 1000);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
    const latency = await logLatencies(logDir);
    const result: RunResult = { tps, transactions: latency.count, p50Ms: latency.p50Ms, p99Ms: latency.p99Ms };
    if (pids && cpuBefore) {
      result.gatewayCpuSeconds = procCpuSeconds(pids.gateway) - cpuBefore.gateway;
      result.agentCpuSeconds = procCpuSeconds(pids.agent) - cpuBefore.agent;
      result.gatewayPeakRssMiB = (procStatus(pids.gateway)?.hwmKb ?? NaN) / 1024;
      result.agentPeakRssMiB = (procStatus(pids.agent)?.hwmKb ?? NaN) / 1024;
    }
    return result;
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
}

function summarize(runs: RunResult[]) {
  return { tps: median(runs.map((r) => r.tps)), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)), runs };
}

/** Gateway and agent cost over all gateway runs of a workload. */
function processUse(runs: RunResult[]) {
  const sum = (pick: (r: RunResult) => number | undefined) => runs.reduce((total, r) => total + (pick(r) ?? NaN), 0);
  const transactions = sum((r) => r.transactions);
  return {
    transactions,
    // Per 1k transactions rather than per run, so select-only and TPC-B costs compare.
    gatewayCpuSecondsPer1k: (sum((r) => r.gatewayCpuSeconds) / transactions) * 1000,
    agentCpuSecondsPer1k: (sum((r) => r.agentCpuSeconds) / transactions) * 1000,
    gatewayPeakRssMiB: Math.max(...runs.map((r) => r.gatewayPeakRssMiB ?? NaN)),
    agentPeakRssMiB: Math.max(...runs.map((r) => r.agentPeakRssMiB ?? NaN)),
  };
}

/** A Node.js process that pipes every connection on `listen` to `target`, and nothing else. */
const PIPE_SCRIPT = `
const net = require('node:net');
const [listen, target] = process.argv.slice(1).map(Number);
net.createServer({ noDelay: true }, (client) => {
  const server = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
  client.pipe(server).pipe(client);
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
}).listen(listen, '127.0.0.1', () => process.send('ready'));`;

async function startTwoPipes(): Promise<{ port: number; stop(): void }> {
  const [middle, front] = [await freePort(), await freePort()];
  const start = (listen: number, target: number) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', PIPE_SCRIPT, String(listen), String(target)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.once('message', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`pipe process exited (${code})`)));
    });
  const children = [await start(middle, 5432), await start(front, middle)];
  return { port: front, stop: () => children.forEach((child) => child.kill()) };
}

let cluster: Cluster | undefined;
let cleaningUp: Promise<void> | undefined;
const cleanup = () =>
  (cleaningUp ??= (async () => {
    await cluster?.stop().catch((error: Error) => console.error(`stopping the cluster failed: ${error.message}`));
    await psqlAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`).catch((error: Error) => console.error(error.message));
  })());
// An interrupted bench still drops its database and stops the gateway and agent it started.
let aborted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    aborted = true;
    void cleanup().finally(() => process.exit(130));
  });
}

const startedAt = Date.now();
try {
  console.log(`\npgbench: creating ${DATABASE} (scale ${CONFIG.scale}) on 127.0.0.1:5432`);
  await psqlAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`, `CREATE DATABASE ${DATABASE}`);
  await run('pgbench', ['-i', '-q', '-s', String(CONFIG.scale), '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', DATABASE], {}, 600_000);

  cluster = await startCluster('postgres', { GATEHOUSE_LOG_LEVEL: 'warn' });
  await cluster.createConnection(CONNECTION, {
    type: 'database',
    subtype: 'postgres',
    command: [],
    secret: { 'envvar:HOST': b64('127.0.0.1'), 'envvar:PORT': b64('5432'), 'envvar:USER': b64('postgres'), 'envvar:PASS': b64('unused-trust-auth'), 'envvar:DB': b64(DATABASE) },
  });
  const direct: Target = { side: 'direct', connArgs: ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', DATABASE], env: {} };
  const gateway: Target = { side: 'gateway', connArgs: ['-h', '127.0.0.1', '-p', String(cluster.pgPort), '-U', 'bench', CONNECTION], env: { PGPASSWORD: cluster.adminKey } };
  const idle = { gatewayRssMiB: (procStatus(cluster.gateway.child.pid!)?.rssKb ?? NaN) / 1024, agentRssMiB: (procStatus(cluster.agent.child.pid!)?.rssKb ?? NaN) / 1024 };

  const results: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const workload of WORKLOADS) {
    if (aborted) break;
    console.log(`  ${workload.label}: ${CONFIG.rounds} rounds x ${CONFIG.seconds}s each way`);
    try {
      // Warm-up: the gateway's JIT and both sides' connection paths and caches before anything is counted.
      await pgbench(direct, workload.args, CONFIG.warmupSeconds);
      await pgbench(gateway, workload.args, CONFIG.warmupSeconds, cluster);
      const runs = { direct: [] as RunResult[], gateway: [] as RunResult[] };
      for (let round = 0; round < CONFIG.rounds; round++) {
        for (const target of round % 2 ? [gateway, direct] : [direct, gateway]) {
          runs[target.side].push(await pgbench(target, workload.args, CONFIG.seconds, target === gateway ? cluster : undefined));
        }
      }
      const d = summarize(runs.direct);
      const g = summarize(runs.gateway);
      const use = processUse(runs.gateway);
      const ratio = g.tps / d.tps;
      results[workload.key] = { label: workload.label, args: workload.args, ratio, direct: d, gateway: g, processUse: use };
      rows.push([workload.label, d.tps.toFixed(0), g.tps.toFixed(0), ratio.toFixed(2), `${d.p50Ms.toFixed(2)} / ${d.p99Ms.toFixed(2)}`, `${g.p50Ms.toFixed(2)} / ${g.p99Ms.toFixed(2)}`,
        use.gatewayCpuSecondsPer1k.toFixed(3), use.agentCpuSecondsPer1k.toFixed(3), use.gatewayPeakRssMiB.toFixed(0), use.agentPeakRssMiB.toFixed(0)]);
    } catch (error) {
      // Report and go on: one broken path should not hide the other workloads' figures.
      if (aborted) break;
      const message = (error as Error).message;
      console.error(`  ${workload.label} failed: ${message}`);
      results[workload.key] = { label: workload.label, args: workload.args, error: message };
      rows.push([workload.label, 'error', 'error', '-', '-', '-', '-', '-', '-', '-']);
    }
  }

  // What any design with two relaying processes between client and server costs here: two
  // plain Node.js TCP pipes chained (no gRPC, no parsing, no recording), select-only.
  let twoPipes: { tps: number; ratio: number } | undefined;
  if (!aborted) {
    const relays = await startTwoPipes();
    try {
      const pipes: Target = { side: 'direct', connArgs: ['-h', '127.0.0.1', '-p', String(relays.port), '-U', 'postgres', DATABASE], env: {} };
      const selectOnly = WORKLOADS[0]!.args;
      await pgbench(pipes, selectOnly, CONFIG.warmupSeconds);
      const runs = { pipes: [] as RunResult[], direct: [] as RunResult[] };
      for (let round = 0; round < CONFIG.rounds; round++) {
        runs.direct.push(await pgbench(direct, selectOnly, CONFIG.seconds));
        runs.pipes.push(await pgbench(pipes, selectOnly, CONFIG.seconds));
      }
      const tps = summarize(runs.pipes).tps;
      twoPipes = { tps, ratio: tps / summarize(runs.direct).tps };
      results.twoPlainPipesSelectOnly = { ...twoPipes, direct: summarize(runs.direct), pipes: summarize(runs.pipes) };
    } finally {
      relays.stop();
    }
  }

  if (aborted) throw new Error('interrupted: no results written');
  const header = ['workload', 'direct TPS', 'gateway TPS', 'ratio', 'direct p50/p99 ms', 'gateway p50/p99 ms', 'gw CPU s/1k tx', 'agent CPU s/1k tx', 'gw peak MiB', 'agent peak MiB'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(`\npgbench direct vs through gateway + agent (PostgreSQL store, recording on): scale ${CONFIG.scale}, ${CONFIG.clients} clients, -j ${CONFIG.threads}, ${CONFIG.seconds}s x ${CONFIG.rounds} rounds, medians\n`);
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  if (twoPipes) {
    console.log(`\nreference, select-only through two chained plain TCP pipe processes (no gRPC, parsing or recording): ${twoPipes.tps.toFixed(0)} TPS, ratio ${twoPipes.ratio.toFixed(2)}`);
  }
  console.log(`\nidle RSS before the runs: gateway ${idle.gatewayRssMiB.toFixed(0)} MiB, agent ${idle.agentRssMiB.toFixed(0)} MiB`);
  const selectRatio = (results.selectOnlySimple as { ratio?: number } | undefined)?.ratio ?? NaN;
  const targetMet = selectRatio >= SELECT_ONLY_RATIO_TARGET;
  console.log(`target: select-only gateway/direct TPS ratio >= ${SELECT_ONLY_RATIO_TARGET} with recording on: ${targetMet ? 'MET' : 'NOT MET'} (${selectRatio.toFixed(2)})`);

  await mkdir(OUT_DIR, { recursive: true });
  const report = { generatedAt: new Date().toISOString(), config: CONFIG, idle, target: { selectOnlyRatioMin: SELECT_ONLY_RATIO_TARGET, selectOnlyRatio: selectRatio, met: targetMet }, results, durationSeconds: (Date.now() - startedAt) / 1000 };
  await writeFile(path.join(OUT_DIR, 'pgbench.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`\nresults: bench/out/pgbench.json (${report.durationSeconds.toFixed(0)}s)`);
} finally {
  await cleanup();
}
