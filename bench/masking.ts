/**
 * Masking-engine benchmark (part of `npm run bench`): masks a 256 MiB mixed log stream (64 KiB
 * chunks, all default entity types on) and runs two baselines over the same chunks in the same
 * process:
 *
 *  - pass-through: copies each chunk (what forwarding the stream unmasked costs);
 *  - line split: decodes each chunk and finds every '\n' with one indexOf pass (the least any
 *    line-aware masker must do).
 *
 * Prints a table and writes bench/out/masking.json. Reports; asserts nothing about timings.
 * Knob: BENCH_MASKING_MIB=256
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMaskingStream } from '../src/masking/index.js';
import { intEnv } from './support.js';

const CHUNK_BYTES = 64 * 1024;
const DISTINCT_CHUNKS = 64; // cycled, so generating the input costs nothing during the timed runs
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

// Roughly one line in four carries a sensitive value; the rest are look-alikes and plain logs.
const LINES = [
  '2024-05-01T10:11:12.123Z INFO  api  request_id=9f8e7d6c method=GET path=/v1/orders/48213 status=200 dur_ms=12',
  '2024-05-01T10:11:12.456Z INFO  api  user=jane.roe@example.org logged in from 203.0.113.42',
  '2024-05-01T10:11:13.001Z DEBUG db   query="select id, total from orders where id = $1" rows=1 took=0.8ms',
  '2024-05-01T10:11:13.002Z WARN  pay  card 4111-1111-1111-1111 declined; retry order ORD-2024-000123',
  ' 42 | Maria Silva   | 123.456.789-09 | +55 11 91234-5678 | 2021-03-04 | active',
  '{"id":7781,"name":"Bob","phone":"(415) 555-0100","iban":"DE89370400440532013000","plan":"pro","version":"1.2.3.4"}',
  '2024-05-01T10:11:14.789Z INFO  web  GET https://shop.example.com/cart?item=1234 200 - "Mozilla/5.0 (X11; Linux x86_64)"',
  'order_id,amount,currency,created_at,sku\n100234,19.99,USD,2024-05-01 10:11:12,SKU-48213-XL',
  '2024-05-01T10:11:15.000Z INFO  auth token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl issued',
  '2024-05-01T10:11:15.500Z INFO  k8s  pod=api-7d9f8c6b5-x2x9z node=ip-10-0-12-7 image=registry/api:2.14.1 restarts=0',
  '2024-05-01T10:11:16.000Z ERROR wrk  job 5521 failed after 3 attempts: connection reset by peer (errno=104)',
  '2024-05-01T10:11:16.250Z INFO  cfg  loaded 128 settings in 4ms, cache hit ratio 0.97, build 20240501.3',
];

/** 64 distinct 64 KiB chunks of mixed log lines, also streamed through a real gateway by bench/masking-exec.ts. */
export function mixedLogChunks(): Buffer[] {
  const chunks: Buffer[] = [];
  let lineIndex = 0;
  for (let c = 0; c < DISTINCT_CHUNKS; c++) {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let filled = 0;
    while (filled < CHUNK_BYTES) filled += chunk.write(`${LINES[lineIndex++ % LINES.length]} seq=${lineIndex}\n`, filled, 'latin1');
    chunks.push(chunk);
  }
  return chunks;
}

/** Feeds `totalBytes` of chunks to `consume`; returns the rate in MB/s (10^6 bytes). */
function rate(totalBytes: number, chunks: Buffer[], consume: (chunk: Buffer) => void): number {
  const started = performance.now();
  for (let sent = 0, i = 0; sent < totalBytes; sent += CHUNK_BYTES, i++) consume(chunks[i % chunks.length] as Buffer);
  return totalBytes / 1e6 / ((performance.now() - started) / 1000);
}

export interface MaskingBenchResult {
  bytes: number;
  maskMBps: number;
  passThroughMBps: number;
  lineSplitMBps: number;
  /** Masking rate / pass-through rate. */
  ratioToPassThrough: number;
  /** Masking rate / line-split rate. */
  ratioToLineSplit: number;
  peakRssMiB: number;
  redactions: number;
}

export function benchMasking(totalBytes = 256 * 1024 * 1024): MaskingBenchResult {
  const chunks = mixedLogChunks();
  let copied = 0;
  const passThroughMBps = rate(totalBytes, chunks, (chunk) => {
    copied += Buffer.from(chunk).length;
  });
  let lines = 0;
  const lineSplitMBps = rate(totalBytes, chunks, (chunk) => {
    const text = chunk.toString('latin1');
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', newline + 1)) lines++;
  });
  const stream = createMaskingStream();
  let masked = 0;
  const maskMBps = rate(totalBytes, chunks, (chunk) => {
    masked += stream.write(chunk).length;
  });
  masked += stream.end().length;
  if (copied !== totalBytes || lines === 0 || masked === 0) throw new Error('a benchmark loop did no work');
  return {
    bytes: totalBytes,
    maskMBps,
    passThroughMBps,
    lineSplitMBps,
    ratioToPassThrough: maskMBps / passThroughMBps,
    ratioToLineSplit: maskMBps / lineSplitMBps,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    redactions: stream.metrics().total_redact_count,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mebibytes = intEnv('BENCH_MASKING_MIB', 256);
  const loadAverageBefore = os.loadavg()[0] ?? 0;
  const result = benchMasking(mebibytes * 1024 * 1024);
  const rows: [string, string][] = [
    [`masking ${mebibytes} MiB (64 KiB chunks, all default entity types), MB/s`, result.maskMBps.toFixed(1)],
    ['baseline: pass-through (copy each chunk), MB/s', result.passThroughMBps.toFixed(0)],
    ['baseline: line split (decode, one indexOf pass), MB/s', result.lineSplitMBps.toFixed(0)],
    ['ratio masking / pass-through', result.ratioToPassThrough.toFixed(3)],
    ['ratio masking / line split', result.ratioToLineSplit.toFixed(3)],
    ['peak RSS of the process, MiB', result.peakRssMiB.toFixed(0)],
    ['redactions', String(result.redactions)],
    ['1-minute load average before / after', `${loadAverageBefore.toFixed(2)} / ${(os.loadavg()[0] ?? 0).toFixed(2)}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log('\nMasking benchmark\n');
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value.padStart(12)}`);
  await mkdir(OUT_DIR, { recursive: true });
  const machine = { cpus: os.cpus().length, node: process.version, loadAverageBefore, loadAverageAfter: os.loadavg()[0] ?? 0 };
  await writeFile(path.join(OUT_DIR, 'masking.json'), JSON.stringify({ generatedAt: new Date().toISOString(), machine, result }, null, 2) + '\n');
  console.log('\nresults: bench/out/masking.json');
}
