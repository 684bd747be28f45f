/**
 * Gatehouse benchmark: `npm run bench`.
 *
 * For each store (embedded PGlite, PostgreSQL) it starts a real cluster (gateway + agent
 * processes, test/support/cluster.ts) and measures, in the same run:
 *
 *  1. sequential latency of a trivial exec through gateway + agent, against spawning the same
 *     `bash` directly with the same script on stdin (interleaved, so both see the same load; the
 *     direct spawns come from a small helper process, see DirectSpawner);
 *  2. throughput with N concurrent callers, gateway vs direct spawning;
 *  3. the store's own write rate for 256 MiB in 1 MiB pieces (PostgreSQL: batched inserts of
 *     1 MiB bytea rows into a scratch table of the same database; embedded: open-append-write-close
 *     of 1 MiB chunks to a file in a temp dir, as the file segment store does);
 *  4. streaming 256 MiB of output through an exec: end-to-end rate and the RSS of the gateway
 *     and of the agent (VmRSS sampled every 50 ms, and VmHWM, reset just before the run).
 *
 * Results: a table on stdout and bench/out/results.json. The bench reports; it asserts nothing
 * about timings. Every loop is bounded by a count and by an overall time limit.
 *
 * Knobs (environment): BENCH_STORES=pglite,postgres  BENCH_LATENCY_RUNS=500  BENCH_WARMUP=20
 * BENCH_THROUGHPUT_EXECS=400  BENCH_CONCURRENCY=16  BENCH_STREAM_MIB=256  BENCH_TIME_LIMIT_SECONDS=270
 * BENCH_LOG_LEVEL=info (gateway/agent log level; info is the product default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { startCluster, type Cluster, type StoreKind } from '../test/support/cluster.js';
import { intEnv, procCpuSeconds, procStatus, resetPeak, type ProcStatus } from './support.js';

// ---------------------------------------------------------------------------------------------
// Configuration

const MiB = 1024 * 1024;
const CONFIG = {
  stores: (process.env.BENCH_STORES ?? 'pglite,postgres').split(',').filter(Boolean) as StoreKind[],
  latencyRuns: intEnv('BENCH_LATENCY_RUNS', 500),
  warmup: intEnv('BENCH_WARMUP', 20),
  throughputExecs: intEnv('BENCH_THROUGHPUT_EXECS', 400),
  concurrency: intEnv('BENCH_CONCURRENCY', 16),
  streamBytes: intEnv('BENCH_STREAM_MIB', 256) * MiB,
  chunkBytes: MiB,
  pgInsertBatchRows: 8,
  timeLimitSeconds: intEnv('BENCH_TIME_LIMIT_SECONDS', 270),
  rssSampleMs: 50,
  script: 'echo hi',
  logLevel: process.env.BENCH_LOG_LEVEL || 'info',
};
for (const store of CONFIG.stores) {
  if (store !== 'pglite' && store !== 'postgres') throw new Error(`unknown store in BENCH_STORES: ${store}`);
}
const EXEC_WAIT_SECONDS = CONFIG.timeLimitSeconds + 60;
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
const TARGETS = { latencyMedianRatioMax: 3, gatewayPeakRssMiBMax: 256, streamVsStoreMin: 0.5 };

const benchStartedAt = Date.now();
const deadline = benchStartedAt + CONFIG.timeLimitSeconds * 1000;
const remainingMs = () => deadline - Date.now();

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started or created registers an undo; run on success, failure and signals.

const cleanups = new Map<number, () => Promise<void>>();
const cleanupsStarted = new Set<Promise<void>>();
let cleanupSeq = 0;
/** Registers an undo; the returned function runs it once (later calls get the same promise). */
function onCleanup(fn: () => Promise<void>): () => Promise<void> {
  const id = cleanupSeq++;
  let running: Promise<void> | undefined;
  const run = () => {
    if (!running) {
      cleanups.delete(id);
      running = fn().catch((error: Error) => console.error(`cleanup failed: ${error.message}`));
      cleanupsStarted.add(running);
    }
    return running;
  };
  cleanups.set(id, run);
  return run;
}

/** Runs every registered undo, newest first, and waits for those already running elsewhere. */
async function cleanupAll(): Promise<void> {
  while (cleanups.size > 0) await cleanups.get(Math.max(...cleanups.keys()))!();
  await Promise.all(cleanupsStarted);
}

// Last resort: an error nothing caught still stops the clusters before the process ends.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    console.error(`${event}:`, error);
    aborted = true;
    void cleanupAll().finally(() => process.exit(1));
  });
}

/** Set by a signal: every loop stops, main unwinds, cleans up and exits 130. */
let aborted = false;
const pastDeadline = (deadline: number) => aborted || Date.now() > deadline;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping and cleaning up`);
    aborted = true;
    // Stopping the clusters makes whatever is in flight fail fast; main then unwinds.
    void cleanupAll();
    setTimeout(() => {
      console.error('still running 30 s after the signal; exiting');
      void cleanupAll().finally(() => process.exit(130));
    }, 30_000).unref();
  });
}
// Hard stop, in case something hangs past the soft time limit the loops respect.
const watchdog = setTimeout(() => {
  console.error(`bench exceeded its time limit (${CONFIG.timeLimitSeconds}s + 90s); cleaning up and stopping`);
  void cleanupAll().finally(() => process.exit(3));
}, (CONFIG.timeLimitSeconds + 90) * 1000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

interface Stats {
  n: number;
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

function quantile(sorted: number[], q: number): number {
  // Nearest rank.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n: 0, median: NaN, p99: NaN, mean: NaN, min: NaN, max: NaN };
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    n,
    median,
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
  };
}

const round = (value: number, digits = 3) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);
const fmt = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
const kbToMiB = (kb: number) => kb / 1024;

// ---------------------------------------------------------------------------------------------
// HTTP client: keep-alive node:http, lighter than fetch, so the client costs as little as possible.

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface HttpResult {
  status: number;
  body: Buffer;
  /** performance.now() when the response head arrived, and when its body had been received. */
  headAt: number;
  endAt: number;
}

function request(url: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent: httpAgent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const headAt = performance.now();
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const endAt = performance.now();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headAt, endAt });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(Math.max(1, timeoutMs), () => req.destroy(new Error(`${method} ${url}: no answer within ${Math.round(timeoutMs)} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface ExecResult {
  status: number;
  exit_code: number;
  output: string;
  truncated: boolean;
  session_id: string;
  responseBytes: number;
  /** When the answer began and when it was fully received (performance.now()); parsing it is not counted. */
  headAt: number;
  endAt: number;
}

async function gatewayExec(cluster: Cluster, script: string, timeoutMs: number): Promise<ExecResult> {
  const res = await request(
    `${cluster.url}/api/sessions`,
    'POST',
    { authorization: `Bearer ${cluster.adminKey}`, 'content-type': 'application/json' },
    JSON.stringify({ connection: 'bash', script }),
    timeoutMs,
  );
  let parsed: any;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`exec answered ${res.status} with a body that is not JSON (${res.body.length} bytes)`);
  }
  return { status: res.status, ...parsed, responseBytes: res.body.length, headAt: res.headAt, endAt: res.endAt };
}

async function trivialGatewayExec(cluster: Cluster): Promise<number> {
  const started = performance.now();
  const result = await gatewayExec(cluster, CONFIG.script, 30_000);
  const elapsed = result.endAt - started;
  if (result.status !== 200 || result.exit_code !== 0 || result.output !== 'hi\n') {
    throw new Error(`trivial exec failed: status ${result.status}, exit_code ${result.exit_code}, output ${JSON.stringify(result.output)}`);
  }
  return elapsed;
}

// ---------------------------------------------------------------------------------------------
// Direct baseline: the same bash, the same script on stdin, spawned the way the agent does it.
//
// Spawned from a small helper process of its own, not from this one: the cost of spawning grows
// with the spawning process's memory (fork copies its page tables), and this process holds the
// ~96 MB answer of the streaming run. The helper times each spawn itself; the IPC is not counted.

const SPAWNER_SOURCE = `
const { spawn } = require('node:child_process');
const env = {};
for (const name of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name];
function one(script) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - started;
      if (code !== 0 || out !== 'hi\\n') reject(new Error('direct bash failed: code ' + code + ', output ' + JSON.stringify(out)));
      else resolve(elapsed);
    });
    child.stdin.end(script);
  });
}
async function concurrent(script, count, concurrency, deadline) {
  let issued = 0;
  let partial = false;
  const latencies = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < count) {
      if (Date.now() > deadline) { partial = true; return; }
      issued++;
      latencies.push(await one(script));
    }
  }));
  return { latencies, seconds: (performance.now() - started) / 1000, partial };
}
process.on('message', async (m) => {
  try {
    const value = m.cmd === 'one' ? await one(m.script) : await concurrent(m.script, m.count, m.concurrency, m.deadline);
    process.send({ id: m.id, value });
  } catch (error) {
    process.send({ id: m.id, error: String(error && error.message || error) });
  }
});
process.on('disconnect', () => process.exit(0));
`;

class DirectSpawner {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, { resolve(value: any): void; reject(error: Error): void }>();
  private nextId = 0;
  readonly stop: () => Promise<void>;

  constructor() {
    this.child = spawn(process.execPath, ['-e', SPAWNER_SOURCE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const waiter = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.value);
    });
    this.child.on('error', () => {
      // A failed send (the helper is gone) is reported by call(); exit rejects what waits.
    });
    this.child.once('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the direct-spawn helper exited (${code})`));
      this.waiting.clear();
    });
    this.stop = onCleanup(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
      await exited;
    });
  }

  private call<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error('the direct-spawn helper is gone'));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...message }, (error) => {
        if (!error) return;
        this.waiting.delete(id);
        reject(error);
      });
    });
  }

  /** One spawn of bash with the script on stdin, to its exit; ms. */
  one(script: string): Promise<number> {
    return this.call({ cmd: 'one', script });
  }

  concurrent(script: string, count: number, concurrency: number, deadline: number): Promise<{ latencies: number[]; seconds: number; partial: boolean }> {
    return this.call({ cmd: 'concurrent', script, count, concurrency, deadline });
  }
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

/**
 * Samples VmRSS of some processes every `everyMs` on a worker thread, so that the main thread
 * (which receives the large exec answer) does not delay the samples.
 */
const SAMPLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const peaks = {};
let samples = 0;
let maxGapMs = 0;
let last = performance.now();
function sample() {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last);
  last = now;
  samples++;
  for (const pid of workerData.pids) {
    try {
      const kb = Number(/^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]);
      peaks[pid] = Math.max(peaks[pid] || 0, kb);
    } catch {}
  }
}
sample();
const timer = setInterval(sample, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  sample();
  parentPort.postMessage({ peaks, samples, maxGapMs });
  parentPort.close();
});
parentPort.postMessage('started');
`;

class RssSampler {
  private worker: Worker | undefined;
  private exited = false;
  private result: { peaks: Record<number, number>; samples: number; maxGapMs: number } = { peaks: {}, samples: 0, maxGapMs: 0 };

  constructor(private readonly pids: number[], private readonly everyMs: number) {}

  async start(): Promise<void> {
    const worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { pids: this.pids, everyMs: this.everyMs } });
    this.worker = worker;
    const terminate = onCleanup(async () => void (await worker.terminate()));
    worker.once('exit', () => {
      this.exited = true;
      void terminate();
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker!;
    this.result = await new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new Error('the RSS sampler stopped early'));
        return;
      }
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('the RSS sampler stopped early')));
      worker.postMessage('stop');
    });
  }

  get samples(): number {
    return this.result.samples;
  }

  get maxGapMs(): number {
    return this.result.maxGapMs;
  }

  peakKb(pid: number): number {
    return this.result.peaks[pid] ?? NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface LatencyResult {
  runs: number;
  warmup: number;
  gatewayMs: Stats;
  directMs: Stats;
  medianRatio: number;
  p99Ratio: number;
  partial: boolean;
  rawGatewayMs: number[];
  rawDirectMs: number[];
}

async function measureLatency(cluster: Cluster, direct: DirectSpawner, storeDeadline: number): Promise<LatencyResult> {
  const gatewayMs: number[] = [];
  const directMs: number[] = [];
  let partial = false;
  for (let i = 0; i < CONFIG.warmup + CONFIG.latencyRuns; i++) {
    if (pastDeadline(storeDeadline)) {
      partial = true;
      break;
    }
    // Interleaved, alternating which goes first, so both see the same machine load.
    let g: number;
    let d: number;
    if (i % 2 === 0) {
      g = await trivialGatewayExec(cluster);
      d = await direct.one(CONFIG.script);
    } else {
      d = await direct.one(CONFIG.script);
      g = await trivialGatewayExec(cluster);
    }
    if (i >= CONFIG.warmup) {
      gatewayMs.push(g);
      directMs.push(d);
    }
  }
  const gateway = stats(gatewayMs);
  const directStats = stats(directMs);
  return {
    runs: gatewayMs.length,
    warmup: CONFIG.warmup,
    gatewayMs: gateway,
    directMs: directStats,
    medianRatio: gateway.median / directStats.median,
    p99Ratio: gateway.p99 / directStats.p99,
    partial,
    rawGatewayMs: gatewayMs.map((v) => round(v)!),
    rawDirectMs: directMs.map((v) => round(v)!),
  };
}

interface ThroughputSide {
  execs: number;
  seconds: number;
  execsPerSecond: number;
  latencyMs: Stats;
  partial: boolean;
}

async function runConcurrent(count: number, concurrency: number, storeDeadline: number, one: () => Promise<number>): Promise<ThroughputSide> {
  let issued = 0;
  let partial = false;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < count) {
        if (pastDeadline(storeDeadline)) {
          partial = true;
          return;
        }
        issued++;
        latencies.push(await one());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { execs: latencies.length, seconds, execsPerSecond: latencies.length / seconds, latencyMs: stats(latencies), partial };
}

interface ThroughputResult {
  concurrency: number;
  gateway: ThroughputSide;
  direct: ThroughputSide;
  ratio: number;
  /** CPU used per exec during the gateway side, ms. */
  gatewayCpuMsPerExec: number;
  agentCpuMsPerExec: number;
}

async function measureThroughput(cluster: Cluster, spawner: DirectSpawner, storeDeadline: number): Promise<ThroughputResult> {
  // Warm-up at full concurrency (not counted): the agent's and the pool's connections grow to it.
  await runConcurrent(CONFIG.concurrency * 2, CONFIG.concurrency, storeDeadline, () => trivialGatewayExec(cluster));
  const spawned = await spawner.concurrent(CONFIG.script, CONFIG.throughputExecs, CONFIG.concurrency, storeDeadline);
  const direct: ThroughputSide = {
    execs: spawned.latencies.length,
    seconds: spawned.seconds,
    execsPerSecond: spawned.latencies.length / spawned.seconds,
    latencyMs: stats(spawned.latencies),
    partial: spawned.partial,
  };
  const gatewayPid = cluster.gateway.child.pid!;
  const agentPid = cluster.agent.child.pid!;
  const cpuBefore = [procCpuSeconds(gatewayPid), procCpuSeconds(agentPid)] as const;
  const gateway = await runConcurrent(CONFIG.throughputExecs, CONFIG.concurrency, storeDeadline, () => trivialGatewayExec(cluster));
  const perExec = (pid: number, before: number) => ((procCpuSeconds(pid) - before) * 1000) / gateway.execs;
  return {
    concurrency: CONFIG.concurrency,
    gateway,
    direct,
    ratio: gateway.execsPerSecond / direct.execsPerSecond,
    gatewayCpuMsPerExec: perExec(gatewayPid, cpuBefore[0]),
    agentCpuMsPerExec: perExec(agentPid, cpuBefore[1]),
  };
}

interface StoreWriteResult {
  method: string;
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  /** PostgreSQL only: one INSERT per 1 MiB row, sequential, as the segment store writes. */
  singleRowMibPerSecond?: number;
  partial: boolean;
}

/** 1 MiB of zeros: the same content the streaming exec records (head -c ... /dev/zero). */
const CHUNK = Buffer.alloc(CONFIG.chunkBytes);

async function measureFileWrites(storeDeadline: number): Promise<StoreWriteResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-'));
  const removeDir = onCleanup(() => rm(dir, { recursive: true, force: true }));
  try {
    const file = path.join(dir, `${randomUUID()}.events`);
    const chunks = CONFIG.streamBytes / CONFIG.chunkBytes;
    let written = 0;
    let partial = false;
    const started = performance.now();
    for (let i = 0; i < chunks; i++) {
      if (pastDeadline(storeDeadline)) {
        partial = true;
        break;
      }
      const handle = await open(file, 'a', 0o600);
      try {
        await handle.write(CHUNK);
      } finally {
        await handle.close();
      }
      written += CHUNK.length;
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      method: 'fs.promises open(a)+write+close per 1 MiB chunk, temp dir (page cache, no fsync, like file-segment-store)',
      bytes: written,
      seconds,
      mibPerSecond: written / MiB / seconds,
      partial,
    };
  } finally {
    await removeDir();
  }
}

async function measurePgWrites(uri: string, storeDeadline: number): Promise<StoreWriteResult> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  const closeClient = onCleanup(() => client.end());
  const table = `bench_scratch_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  try {
    // Same columns, key and storage as the real table (foreign keys are not copied by LIKE).
    await client.query(`CREATE TABLE ${table} (LIKE session_event_segments INCLUDING ALL)`);
    const chunks = CONFIG.streamBytes / CONFIG.chunkBytes;
    const batch = CONFIG.pgInsertBatchRows;

    const insertRows = async (sessionId: string, firstSeq: number, rows: number) => {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        values.push(sessionId, firstSeq + r, CHUNK);
        tuples.push(`($${3 * r + 1}, $${3 * r + 2}, $${3 * r + 3})`);
      }
      await client.query(`INSERT INTO ${table} (session_id, seq, data) VALUES ${tuples.join(', ')}`, values);
    };

    // Warm-up (not counted): connection, plan, first extension of the table.
    await insertRows(randomUUID(), 0, batch);
    await client.query(`TRUNCATE ${table}`);

    // Batched: the store's own rate.
    let written = 0;
    let partial = false;
    let sessionId = randomUUID();
    let started = performance.now();
    for (let seq = 0; seq < chunks; seq += batch) {
      if (pastDeadline(storeDeadline)) {
        partial = true;
        break;
      }
      const rows = Math.min(batch, chunks - seq);
      await insertRows(sessionId, seq, rows);
      written += rows * CHUNK.length;
    }
    const seconds = (performance.now() - started) / 1000;
    await client.query(`TRUNCATE ${table}`);

    // Single-row, sequential: what the gateway's segment store does per segment.
    let singleWritten = 0;
    sessionId = randomUUID();
    started = performance.now();
    for (let seq = 0; seq < chunks; seq++) {
      if (pastDeadline(storeDeadline)) {
        partial = true;
        break;
      }
      await insertRows(sessionId, seq, 1);
      singleWritten += CHUNK.length;
    }
    const singleSeconds = (performance.now() - started) / 1000;
    return {
      method: `pg: INSERT of ${batch} x 1 MiB bytea rows per statement (autocommit) into a scratch copy of session_event_segments, same database`,
      bytes: written,
      seconds,
      mibPerSecond: written / MiB / seconds,
      singleRowMibPerSecond: singleWritten / MiB / singleSeconds,
      partial,
    };
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await closeClient();
  }
}

interface ProcMemory {
  beforeMiB: number;
  peakSampledMiB: number;
  hwmMiB: number;
  /** Whether VmHWM was reset right before the run (else it is the peak since the process started). */
  hwmResetBeforeRun: boolean;
  growthMiB: number;
}

interface StreamResult {
  bytes: number;
  status: number;
  exitCode: number;
  truncatedResponse: boolean;
  responseOutputChars: number;
  responseBytes: number;
  seconds: number;
  /** Seconds until the answer began: the session had ended and been stored; the rest is sending the answer. */
  secondsToAnswer: number;
  mibPerSecond: number;
  gatewayCpuSeconds: number;
  agentCpuSeconds: number;
  recordedBytes: number | null;
  sessionStatus: string | null;
  rssSamples: number;
  rssMaxSampleGapMs: number;
  gatewayIdleAfterStartMiB: number;
  gateway: ProcMemory;
  agent: ProcMemory;
}

async function measureStream(cluster: Cluster, idleAfterStartKb: number, storeDeadline: number): Promise<StreamResult> {
  const gatewayPid = cluster.gateway.child.pid!;
  const agentPid = cluster.agent.child.pid!;
  // Let the previous phases' garbage settle a moment, then take the "before" figures.
  await new Promise((r) => setTimeout(r, 1000));
  const gatewayBefore = procStatus(gatewayPid)!;
  const agentBefore = procStatus(agentPid)!;
  const gatewayReset = resetPeak(gatewayPid);
  const agentReset = resetPeak(agentPid);

  const cpuBefore = [procCpuSeconds(gatewayPid), procCpuSeconds(agentPid)] as const;
  const sampler = new RssSampler([gatewayPid, agentPid], CONFIG.rssSampleMs);
  await sampler.start();
  const started = performance.now();
  let result: ExecResult;
  try {
    result = await gatewayExec(cluster, `head -c ${CONFIG.streamBytes} /dev/zero`, Math.max(5_000, storeDeadline - Date.now()));
  } finally {
    await sampler.stop();
  }
  const seconds = (result.endAt - started) / 1000;
  const gatewayCpuSeconds = procCpuSeconds(gatewayPid) - cpuBefore[0];
  const agentCpuSeconds = procCpuSeconds(agentPid) - cpuBefore[1];
  const gatewayAfter = procStatus(gatewayPid)!;
  const agentAfter = procStatus(agentPid)!;
  if (result.status !== 200) throw new Error(`streaming exec answered ${result.status} (exit_code ${result.exit_code}) after ${seconds.toFixed(1)}s`);

  // What the store holds for the session: the recording must have all the bytes.
  let recordedBytes: number | null = null;
  if (cluster.store === 'postgres') {
    const client = new pg.Client({ connectionString: cluster.postgresUri });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT coalesce(sum(length(data)), 0)::bigint AS bytes FROM session_event_segments WHERE session_id = $1', [
        result.session_id,
      ]);
      recordedBytes = Number(rows[0].bytes);
    } finally {
      await client.end();
    }
  } else {
    recordedBytes = await stat(path.join(cluster.dataDir, 'recordings', `${result.session_id}.events`)).then(
      (s) => s.size,
      () => null,
    );
  }
  const session = await cluster.api('GET', `/api/sessions/${result.session_id}?expand=none`);

  const memory = (before: ProcStatus, after: ProcStatus, peakKb: number, reset: boolean): ProcMemory => {
    const peak = Math.max(peakKb, after.rssKb);
    return {
      beforeMiB: kbToMiB(before.rssKb),
      peakSampledMiB: kbToMiB(peak),
      hwmMiB: kbToMiB(after.hwmKb),
      hwmResetBeforeRun: reset,
      growthMiB: kbToMiB(Math.max(peak, reset ? after.hwmKb : 0) - before.rssKb),
    };
  };
  return {
    bytes: CONFIG.streamBytes,
    status: result.status,
    exitCode: result.exit_code,
    truncatedResponse: result.truncated,
    responseOutputChars: result.output.length,
    responseBytes: result.responseBytes,
    seconds,
    secondsToAnswer: (result.headAt - started) / 1000,
    mibPerSecond: CONFIG.streamBytes / MiB / seconds,
    gatewayCpuSeconds,
    agentCpuSeconds,
    recordedBytes,
    sessionStatus: session.body?.status ?? null,
    rssSamples: sampler.samples,
    rssMaxSampleGapMs: sampler.maxGapMs,
    gatewayIdleAfterStartMiB: kbToMiB(idleAfterStartKb),
    gateway: memory(gatewayBefore, gatewayAfter, sampler.peakKb(gatewayPid), gatewayReset),
    agent: memory(agentBefore, agentAfter, sampler.peakKb(agentPid), agentReset),
  };
}

// ---------------------------------------------------------------------------------------------
// One store

interface StoreResult {
  store: StoreKind;
  error?: string;
  startupSeconds?: number;
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  storeWrite?: StoreWriteResult;
  stream?: StreamResult;
  streamVsStore?: number;
}

async function benchStore(store: StoreKind, storeDeadline: number): Promise<StoreResult> {
  const result: StoreResult = { store };
  const phase = (name: string) => console.error(`[${store}] ${name} (${Math.round((Date.now() - benchStartedAt) / 1000)}s elapsed)`);
  phase('starting cluster');
  const startedAt = performance.now();
  const cluster = await startCluster(store, { GATEHOUSE_EXEC_WAIT_SECONDS: String(EXEC_WAIT_SECONDS), GATEHOUSE_LOG_LEVEL: CONFIG.logLevel });
  const stopCluster = onCleanup(() => cluster.stop());
  if (aborted) {
    await stopCluster();
    throw new Error('aborted by a signal');
  }
  try {
    result.startupSeconds = (performance.now() - startedAt) / 1000;
    phase(`cluster up: gateway pid ${cluster.gateway.child.pid}, agent pid ${cluster.agent.child.pid}, data dir ${cluster.dataDir}`);
    await new Promise((r) => setTimeout(r, 500));
    const idleAfterStartKb = procStatus(cluster.gateway.child.pid!)!.rssKb;
    const spawner = new DirectSpawner();
    try {
      phase('sequential latency');
      result.latency = await measureLatency(cluster, spawner, storeDeadline);
      phase('throughput');
      result.throughput = await measureThroughput(cluster, spawner, storeDeadline);
    } finally {
      await spawner.stop();
    }
    phase('store write rate');
    result.storeWrite = store === 'postgres' ? await measurePgWrites(cluster.postgresUri!, storeDeadline) : await measureFileWrites(storeDeadline);
    phase('streaming');
    result.stream = await measureStream(cluster, idleAfterStartKb, storeDeadline);
    result.streamVsStore = result.stream.mibPerSecond / result.storeWrite.mibPerSecond;
  } catch (error) {
    result.error = (error as Error).stack ?? String(error);
    if (aborted) return result;
    const tail = (text: string) => text.split('\n').slice(-15).join('\n');
    console.error(`[${store}] FAILED: ${(error as Error).message}\n--- gateway output (tail)\n${tail(cluster.gateway.output())}\n--- agent output (tail)\n${tail(cluster.agent?.output() ?? '')}`);
  } finally {
    phase('stopping cluster');
    await stopCluster();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

function machineFacts() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemMiB: Math.round(os.totalmem() / MiB),
    loadAvgAtStart: os.loadavg().map((v) => round(v, 2)),
    postgresVersion: null as string | null,
  };
}

async function postgresVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: process.env.GATEHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  try {
    await client.connect();
    const { rows } = await client.query('SHOW server_version');
    return rows[0].server_version as string;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

function table(rows: string[][], headers: string[]): string {
  const data = rows.filter((r) => r.slice(1).some((c) => c !== ''));
  const widths = headers.map((_, i) => Math.max(...[headers, ...data].map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = rows.map((r) => (r.slice(1).every((c) => c === '') ? `\n${r[0]}` : line(r)));
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...out].join('\n');
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'MET' : 'MISSED';
}

function report(machine: ReturnType<typeof machineFacts>, results: StoreResult[], totalSeconds: number): string {
  const cols = results.map((r) => r.store);
  const row = (label: string, pick: (r: StoreResult) => string | undefined): string[] => [label, ...results.map((r) => pick(r) ?? 'n/a')];
  const section = (title: string): string[] => [title, ...results.map(() => '')];
  const partial = (p: boolean | undefined) => (p ? ' (partial: time limit)' : '');
  const rows: string[][] = [
    section(`1. Sequential latency, script "${CONFIG.script}" (${CONFIG.latencyRuns} runs after ${CONFIG.warmup} warm-up, gateway and direct interleaved), ms`),
    row('gateway exec median', (r) => r.latency && fmt(r.latency.gatewayMs.median) + partial(r.latency.partial)),
    row('gateway exec p99', (r) => r.latency && fmt(r.latency.gatewayMs.p99)),
    row('direct bash spawn median', (r) => r.latency && fmt(r.latency.directMs.median)),
    row('direct bash spawn p99', (r) => r.latency && fmt(r.latency.directMs.p99)),
    row(`median ratio gateway/direct (target <= ${TARGETS.latencyMedianRatioMax})`, (r) => r.latency && fmt(r.latency.medianRatio)),
    row('p99 ratio gateway/direct', (r) => r.latency && fmt(r.latency.p99Ratio)),
    section(`2. Throughput, ${CONFIG.concurrency} concurrent callers, ${CONFIG.throughputExecs} execs each side`),
    row('gateway execs/s', (r) => r.throughput && fmt(r.throughput.gateway.execsPerSecond, 1) + partial(r.throughput.gateway.partial)),
    row('direct spawn execs/s', (r) => r.throughput && fmt(r.throughput.direct.execsPerSecond, 1) + partial(r.throughput.direct.partial)),
    row('ratio gateway/direct', (r) => r.throughput && fmt(r.throughput.ratio)),
    row('gateway latency under load median / p99 ms', (r) => r.throughput && `${fmt(r.throughput.gateway.latencyMs.median, 1)} / ${fmt(r.throughput.gateway.latencyMs.p99, 1)}`),
    row('direct latency under load median / p99 ms', (r) => r.throughput && `${fmt(r.throughput.direct.latencyMs.median, 1)} / ${fmt(r.throughput.direct.latencyMs.p99, 1)}`),
    row('CPU per gateway exec: gateway / agent, ms', (r) => r.throughput && `${fmt(r.throughput.gatewayCpuMsPerExec, 1)} / ${fmt(r.throughput.agentCpuMsPerExec, 1)}`),
    section(`3. Streaming ${CONFIG.streamBytes / MiB} MiB of output (head -c ${CONFIG.streamBytes} /dev/zero)`),
    row('wall time of the exec call, s', (r) => r.stream && fmt(r.stream.seconds)),
    row('  of which until the answer began, s', (r) => r.stream && fmt(r.stream.secondsToAnswer)),
    row('end-to-end MB/s', (r) => r.stream && fmt(r.stream.mibPerSecond, 1)),
    row('store write rate MB/s (4. below)', (r) => r.storeWrite && fmt(r.storeWrite.mibPerSecond, 1)),
    row(`end-to-end / store rate (target >= ${TARGETS.streamVsStoreMin})`, (r) => fmt(r.streamVsStore)),
    row('exec answer: status / exit / truncated', (r) => r.stream && `${r.stream.status} / ${r.stream.exitCode} / ${r.stream.truncatedResponse}`),
    row('exec answer: output chars / body MB', (r) => r.stream && `${r.stream.responseOutputChars} / ${fmt(r.stream.responseBytes / MiB, 1)}`),
    row('recorded in the store, MB (session status)', (r) => r.stream && `${fmt((r.stream.recordedBytes ?? NaN) / MiB, 1)} (${r.stream.sessionStatus})`),
    row('gateway RSS idle after start, MB', (r) => r.stream && fmt(r.stream.gatewayIdleAfterStartMiB, 1)),
    row('gateway RSS before the run, MB', (r) => r.stream && fmt(r.stream.gateway.beforeMiB, 1)),
    row('gateway peak RSS sampled every 50 ms, MB', (r) => r.stream && fmt(r.stream.gateway.peakSampledMiB, 1)),
    row('gateway VmHWM at the end, MB', (r) => r.stream && fmt(r.stream.gateway.hwmMiB, 1) + (r.stream.gateway.hwmResetBeforeRun ? '' : ' (since start)')),
    row('gateway growth: peak - before, MB', (r) => r.stream && fmt(r.stream.gateway.growthMiB, 1)),
    row(`gateway peak RSS target <= ${TARGETS.gatewayPeakRssMiBMax} MB applies to`, (r) =>
      r.store === 'postgres' ? 'absolute peak (this column)' : 'growth (info only)',
    ),
    row('agent RSS before / peak sampled / VmHWM, MB', (r) =>
      r.stream && `${fmt(r.stream.agent.beforeMiB, 1)} / ${fmt(r.stream.agent.peakSampledMiB, 1)} / ${fmt(r.stream.agent.hwmMiB, 1)}`,
    ),
    row('CPU during the run: gateway / agent, s', (r) => r.stream && `${fmt(r.stream.gatewayCpuSeconds)} / ${fmt(r.stream.agentCpuSeconds)}`),
    row('RSS samples taken (max gap ms)', (r) => r.stream && `${r.stream.rssSamples} (${fmt(r.stream.rssMaxSampleGapMs, 0)})`),
    section(`4. Store's own write rate, ${CONFIG.streamBytes / MiB} MiB in 1 MiB pieces of zeros`),
    row('MB/s', (r) => r.storeWrite && fmt(r.storeWrite.mibPerSecond, 1) + partial(r.storeWrite.partial)),
    row('method', (r) => r.storeWrite && (r.store === 'postgres' ? `INSERT ${CONFIG.pgInsertBatchRows} rows/stmt` : 'file append, open/write/close')),
    row('MB/s with 1 row per INSERT (as the segment store)', (r) => (r.store === 'postgres' ? r.storeWrite && fmt(r.storeWrite.singleRowMibPerSecond ?? NaN, 1) : '-')),
    section('Targets'),
    row(`latency median ratio <= ${TARGETS.latencyMedianRatioMax}`, (r) => r.latency && verdict(r.latency.medianRatio <= TARGETS.latencyMedianRatioMax)),
    row(`gateway peak RSS <= ${TARGETS.gatewayPeakRssMiBMax} MB (PostgreSQL-backed gateway)`, (r) =>
      r.store !== 'postgres' ? '-' : r.stream && verdict(Math.max(r.stream.gateway.peakSampledMiB, r.stream.gateway.hwmMiB) <= TARGETS.gatewayPeakRssMiBMax),
    ),
    row(`end-to-end >= ${TARGETS.streamVsStoreMin} x store write rate`, (r) => r.streamVsStore !== undefined ? verdict(r.streamVsStore >= TARGETS.streamVsStoreMin) : undefined),
  ];
  const lines = [
    'Gatehouse benchmark',
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.totalMemMiB} MB RAM, ${machine.platform}`,
    `node ${machine.node}, PostgreSQL ${machine.postgresVersion ?? 'unreachable'}, load average at start ${machine.loadAvgAtStart.join(' ')}, at end ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
    `units: ms; MB = MiB = 2^20 bytes (RSS and rates). Client, gateway, agent, PostgreSQL and the baseline all share these ${machine.cores} cores.`,
    `gateway/agent log level: ${CONFIG.logLevel}; GATEHOUSE_EXEC_WAIT_SECONDS=${EXEC_WAIT_SECONDS}; total bench time ${totalSeconds.toFixed(0)} s`,
    '',
    table(rows, ['', ...cols]),
    '',
    'Notes:',
    `- The ${TARGETS.gatewayPeakRssMiBMax} MB peak-RSS target applies to the PostgreSQL-backed gateway (absolute figure). The PGlite-backed`,
    '  gateway carries the embedded database (~300 MB by itself); for it read "gateway growth: peak - before".',
    '- VmHWM is reset (clear_refs 5) just before the streaming run, so it is the peak of that run.',
    '- Direct spawns run in a small helper node process (spawn cost grows with the spawner\'s RSS; this',
    '  process holds the streaming answer), with the agent\'s options: detached, PATH/HOME/LANG/TZ only.',
    '- The exec answer carries at most 16 MiB of the output (truncated=true is expected); 16 MiB of NUL bytes',
    '  is JSON-escaped as \\u0000, six bytes each, which is why its body is ~96 MB.',
  ];
  for (const r of results) if (r.error) lines.push(`- ${r.store} FAILED: ${r.error.split('\n')[0]}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const machine = machineFacts();
  machine.postgresVersion = CONFIG.stores.includes('postgres') ? await postgresVersion() : null;
  console.log(`machine: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, ${machine.platform}`);
  console.error(`bench config: ${JSON.stringify(CONFIG)}`);
  const results: StoreResult[] = [];
  for (let i = 0; i < CONFIG.stores.length; i++) {
    const store = CONFIG.stores[i]!;
    // Each remaining store gets an equal share of the remaining time.
    const storeDeadline = Date.now() + Math.max(0, remainingMs()) / (CONFIG.stores.length - i);
    if (aborted) break;
    if (remainingMs() <= 0) {
      results.push({ store, error: 'skipped: overall time limit reached' });
      continue;
    }
    try {
      results.push(await benchStore(store, storeDeadline));
    } catch (error) {
      results.push({ store, error: (error as Error).stack ?? String(error) });
      console.error(`[${store}] FAILED: ${(error as Error).message}`);
    }
  }
  if (aborted) return 130;
  const totalSeconds = (Date.now() - benchStartedAt) / 1000;
  const text = report(machine, results, totalSeconds);
  console.log(`\n${text}`);

  await mkdir(OUT_DIR, { recursive: true });
  const json = {
    generatedAt: new Date().toISOString(),
    totalSeconds: round(totalSeconds, 1),
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((v) => round(v, 2)) },
    config: { ...CONFIG, execWaitSeconds: EXEC_WAIT_SECONDS },
    units: { time: 'ms unless named seconds', MiB: 1048576, rates: 'MiB/s', rss: 'MiB' },
    targets: {
      ...TARGETS,
      gatewayPeakRssAppliesTo: 'postgres (absolute); for pglite the growth over the RSS before the run is reported for information',
    },
    results,
  };
  const file = path.join(OUT_DIR, 'results.json');
  await writeFile(file, JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v) : v), 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), file) || file}`);
  return results.some((r) => r.error) ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(error);
} finally {
  await cleanupAll();
  httpAgent.destroy();
}
process.exit(aborted ? 130 : exitCode);
