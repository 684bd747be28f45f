/**
 * Masking-engine micro-benchmark: masks a 256 MiB mixed stream (64 KiB chunks, all default
 * entity types on) and compares it with a plain pass-through that copies the same chunks.
 * Run: node --import tsx bench/masking.ts
 */
import { pathToFileURL } from 'node:url';
import { createMaskingStream } from '../src/masking/index.js';

const CHUNK_BYTES = 64 * 1024;
const DISTINCT_CHUNKS = 64; // cycled, so generating the input costs nothing during the timed runs

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

function makeChunks(): Buffer[] {
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

function time(totalBytes: number, chunks: Buffer[], process: (chunk: Buffer) => void): number {
  const started = performance.now();
  for (let sent = 0, i = 0; sent < totalBytes; sent += CHUNK_BYTES, i++) process(chunks[i % chunks.length] as Buffer);
  return (performance.now() - started) / 1000;
}

export interface MaskingBenchResult {
  bytes: number;
  maskMBps: number;
  passThroughMBps: number;
  ratio: number;
  peakRssMiB: number;
  redactions: number;
}

export function benchMasking(totalBytes = 256 * 1024 * 1024): MaskingBenchResult {
  const chunks = makeChunks();
  let copied = 0;
  const passSeconds = time(totalBytes, chunks, (chunk) => {
    copied += Buffer.from(chunk).length;
  });
  const stream = createMaskingStream();
  let masked = 0;
  const maskSeconds = time(totalBytes, chunks, (chunk) => {
    masked += stream.write(chunk).length;
  });
  masked += stream.end().length;
  const mb = totalBytes / 1e6;
  return {
    bytes: totalBytes,
    maskMBps: mb / maskSeconds,
    passThroughMBps: mb / passSeconds,
    ratio: passSeconds / maskSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    redactions: copied > 0 && masked > 0 ? stream.metrics().total_redact_count : 0,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = benchMasking();
  console.log(
    `masking ${(result.bytes / 2 ** 20).toFixed(0)} MiB: ${result.maskMBps.toFixed(1)} MB/s ` +
      `(pass-through ${result.passThroughMBps.toFixed(0)} MB/s, masking/pass-through time ratio ${(1 / result.ratio).toFixed(1)}x), ` +
      `${result.redactions} redactions, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`,
  );
}
