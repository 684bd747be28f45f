import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MASKING_ERROR_MARKER,
  MAX_PIECE_BYTES,
  createMaskingStream,
  maskBuffer,
  type Detector,
  type Finding,
  type MaskingOptions,
} from '../src/masking/index.js';
import { candidatesOf } from '../src/masking/detectors/candidates.js';
import { allAnchoredRegexes } from '../src/masking/detectors/regex-scan.js';
import { eip55Valid } from '../src/masking/checksums.js';
import { keccak256, keccak256Into } from '../src/masking/keccak.js';

/** Corpus records written as `⟦TYPE:value⟧` (see test/masking-corpus/README.md). */
interface Gold {
  start: number;
  end: number;
  type: string;
  value: string;
}

function loadCorpus(file: string): { text: string; gold: Gold[] } {
  const source = readFileSync(new URL(`./masking-corpus/${file}`, import.meta.url), 'utf8');
  const gold: Gold[] = [];
  let text = '';
  let cursor = 0;
  for (const match of source.matchAll(/⟦([A-Z_]+):([^⟧]+)⟧/g)) {
    text += source.slice(cursor, match.index);
    const value = match[2] ?? '';
    gold.push({ start: text.length, end: text.length + value.length, type: match[1] ?? '', value });
    text += value;
    cursor = match.index + match[0].length;
  }
  text += source.slice(cursor);
  assert.ok(/^[\x00-\x7f]*$/.test(text), `${file}: input is ASCII, so char offsets are byte offsets`);
  return { text, gold };
}

/** The detectors' author's corpus. */
const corpus = loadCorpus('corpus.txt');
/** An independent holdout written without reading the detectors (SRE-style command output). */
const holdout = loadCorpus('holdout.txt');

function maskInChunks(input: Buffer, cuts: number[], options: MaskingOptions = {}) {
  const stream = createMaskingStream(options);
  const parts: Buffer[] = [];
  let previous = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parts.push(stream.write(input.subarray(previous, cut)));
    previous = cut;
  }
  parts.push(stream.write(input.subarray(previous)), stream.end());
  return { output: Buffer.concat(parts), metrics: stream.metrics() };
}

const CHECKSUMMED = new Set([
  'CREDIT_CARD_NUMBER',
  'IBAN_CODE',
  'US_SOCIAL_SECURITY_NUMBER',
  'BRAZIL_CPF_NUMBER',
  'VEHICLE_IDENTIFICATION_NUMBER',
  'IMEI_HARDWARE_ID',
  'CRYPTO',
]);

function precisionRecall({ text, gold: allGold }: { text: string; gold: Gold[] }) {
  const findings: Finding[] = [];
  maskBuffer(Buffer.from(text, 'latin1'), { onFinding: (finding) => findings.push(finding) });
  const types = [...new Set([...allGold.map((g) => g.type), ...findings.map((f) => f.entityType)])].sort();
  return types.map((type) => {
    const gold = allGold.filter((g) => g.type === type);
    const found = findings.filter((f) => f.entityType === type);
    const recalled = gold.filter((g) => found.some((f) => f.offset <= g.start && f.offset + f.length >= g.end));
    const correct = found.filter((f) => gold.some((g) => f.offset < g.end && g.start < f.offset + f.length));
    const missed = gold.filter((g) => !recalled.includes(g)).map((g) => g.value);
    const wrong = found.filter((f) => !correct.includes(f)).map((f) => text.slice(f.offset, f.offset + f.length));
    return {
      type,
      gold: gold.length,
      found: found.length,
      recall: gold.length === 0 ? 1 : recalled.length / gold.length,
      precision: found.length === 0 ? 1 : correct.length / found.length,
      missed,
      wrong,
    };
  });
}

for (const [name, labelled] of [
  ['corpus.txt', corpus],
  ['holdout.txt', holdout],
] as const) {
  describe(`masking engine: precision and recall on the labelled ${name}`, () => {
    const rows = precisionRecall(labelled);
    console.log(name);
    console.table(
      rows.map(({ type, gold, found, recall, precision }) => ({ type, gold, found, recall: recall.toFixed(3), precision: precision.toFixed(3) })),
    );

    for (const row of rows) {
      const floor = CHECKSUMMED.has(row.type) ? { recall: 0.98, precision: 0.95 } : { recall: 0.9, precision: 0.9 };
      it(`${row.type}: recall ≥ ${floor.recall}, precision ≥ ${floor.precision}`, () => {
        assert.ok(row.gold > 0, `${name} has labelled ${row.type} values`);
        assert.ok(row.recall >= floor.recall, `recall ${row.recall}; missed: ${row.missed.join(' | ')}`);
        assert.ok(row.precision >= floor.precision, `precision ${row.precision}; false positives: ${row.wrong.join(' | ')}`);
      });
    }
  });
}

describe('masking engine: properties', () => {
  // Both corpora: the holdout's tables exercise the column state carried from line to line.
  const lines = [...corpus.text.split('\n'), ...holdout.text.split('\n')];
  // A window of corpus lines, optionally joined into one over-long line (exercises piece cuts).
  const sample = fc
    .record({ first: fc.nat(lines.length - 1), count: fc.integer({ min: 1, max: 60 }), joiner: fc.constantFrom('\n', '\n', ' ', ',', '') })
    .map(({ first, count, joiner }) => Buffer.from(lines.slice(first, first + count).join(joiner), 'latin1'));
  const withCuts = sample.chain((input) =>
    fc.record({ input: fc.constant(input), cuts: fc.array(fc.nat(input.length), { maxLength: 40 }) }),
  );

  it('any split of the input into chunks gives the same output and metrics as one chunk', () => {
    fc.assert(
      fc.property(withCuts, ({ input, cuts }) => {
        const whole = maskInChunks(input, []);
        const split = maskInChunks(input, cuts);
        assert.equal(split.output.toString('latin1'), whole.output.toString('latin1'));
        assert.deepEqual(split.metrics, whole.metrics);
      }),
      { numRuns: 300 },
    );
  });

  it('chunking invariance also holds for arbitrary bytes mixed with sensitive values', () => {
    const mixed = fc
      .array(fc.oneof(fc.uint8Array({ maxLength: 300 }), sample), { maxLength: 8 })
      .map((parts) => Buffer.concat(parts))
      .chain((input) => fc.record({ input: fc.constant(input), cuts: fc.array(fc.nat(input.length), { maxLength: 20 }) }));
    fc.assert(
      fc.property(mixed, ({ input, cuts }) => {
        assert.ok(maskInChunks(input, cuts).output.equals(maskInChunks(input, []).output));
      }),
      { numRuns: 200 },
    );
  });

  it('the output never contains a labelled value, however the corpus is chunked', () => {
    const input = Buffer.from(corpus.text, 'latin1');
    fc.assert(
      fc.property(fc.array(fc.nat(input.length), { maxLength: 200 }), (cuts) => {
        const output = maskInChunks(input, cuts).output.toString('latin1');
        for (const gold of corpus.gold) assert.ok(!output.includes(gold.value), `${gold.type} value leaked: ${gold.value}`);
      }),
      { numRuns: 20 },
    );
  });
});

describe('masking engine: shapes found missing or wrong by the holdout corpus', () => {
  const mask = (text: string): string => maskBuffer(Buffer.from(`${text}\n`)).output.toString().slice(0, -1);

  it('a URL right after a "+" (user agents), not one joined to a word', () => {
    assert.equal(mask('(compatible; Googlebot/2.1; +http://www.google.com/bot.html)'), '(compatible; Googlebot/2.1; +[URL])');
    assert.equal(mask('git+https://example.com/x.git'), 'git+[URL]');
  });

  it('cookies after `cookie=` (name=value pairs only) and inside escaped header dumps', () => {
    assert.equal(mask('GET /x 500 cookie="sid=abc123; lang=en" rt=2.0'), 'GET /x 500 cookie="[HTTP_COOKIE]" rt=2.0');
    assert.equal(mask('GET /x 500 cookie="-" rt=0.5 cookie=true'), 'GET /x 500 cookie="-" rt=0.5 cookie=true');
    assert.equal(mask("send: b'GET / HTTP/1.1\\r\\nCookie: sid=abc; t=1\\r\\n\\r\\n'"), "send: b'GET / HTTP/1.1\\r\\nCookie: [HTTP_COOKIE]\\r\\n\\r\\n'");
    assert.equal(mask('header: Set-Cookie: sid=abc; path=/; secure'), 'header: Set-Cookie: [HTTP_COOKIE]');
  });

  it('Brazilian numbers written with the area code in parentheses', () => {
    assert.equal(mask('tel (11) 3355-7821, cel (21) 98877-1122'), 'tel [PHONE_NUMBER], cel [PHONE_NUMBER]');
    assert.equal(mask('f(11) 3355-7821 (11) 1234-5678 (10) 3355-7821'), 'f(11) 3355-7821 (11) 1234-5678 (10) 3355-7821');
  });

  it('dotted quads of user-agent browser tokens and of versions with a suffix are not addresses', () => {
    assert.equal(mask('Mozilla/5.0 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'), 'Mozilla/5.0 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36');
    assert.equal(mask('using V8 11.3.244.8-node.19 on 10.1.2.3-4'), 'using V8 11.3.244.8-node.19 on [IP_ADDRESS]-4');
    assert.equal(mask('Node: ip-10-0-13-7.eu-west-1.compute.internal/10.0.13.7'), 'Node: ip-10-0-13-7.eu-west-1.compute.internal/[IP_ADDRESS]');
  });

  it('labels aligned with their values by blanks and a "|" or ":" (psql \\x, reports)', () => {
    assert.equal(mask('date_of_birth    | 1991-12-05'), 'date_of_birth    | [DATE_OF_BIRTH]');
    assert.equal(mask('  DOB:            07/22/1993'), '  DOB:            [DATE_OF_BIRTH]');
    assert.equal(mask('ssn              | 219099999'), 'ssn              | [US_SOCIAL_SECURITY_NUMBER]');
  });
});

describe('masking engine: values under a labelled table column', () => {
  const mask = (lines: string[], cuts: number[] = []): string[] =>
    maskInChunks(Buffer.from(`${lines.join('\n')}\n`), cuts).output.toString().split('\n').slice(0, -1);

  it('psql aligned output: dates in the dob column until the table ends, no other date', () => {
    const input = [
      ' id  |    dob     | created_at',
      '-----+------------+------------',
      ' 101 | 1984-03-14 | 2024-05-01',
      ' 102 |            | 2024-05-02',
      '(2 rows)',
      ' 103 | 1999-09-09 | 2024-05-03',
    ];
    const expected = [...input];
    expected[2] = ' 101 | [DATE_OF_BIRTH] | 2024-05-01';
    assert.deepEqual(mask(input), expected);
  });

  it('a mysql box: unformatted SSNs and CPFs under their headers, check digits still required', () => {
    const input = [
      '+----+-----------+-------------+',
      '| id | ssn       | cpf         |',
      '+----+-----------+-------------+',
      '|  1 | 219099999 | 52998224725 |',
      '|  2 | 000123456 | 52998224726 |',
      '+----+-----------+-------------+',
    ];
    const expected = [...input];
    expected[3] = '|  1 | [US_SOCIAL_SECURITY_NUMBER] | [BRAZIL_CPF_NUMBER] |';
    assert.deepEqual(mask(input), expected);
  });

  it('CSV (quoted fields may hold the delimiter) and semicolon-separated exports', () => {
    assert.deepEqual(mask(['id,"Date of Birth",name', '1,"1990-01-02","Roe, Jane"', '2,1990-01-02', '3,02/01/1990,Doe']), [
      'id,"Date of Birth",name',
      '1,"[DATE_OF_BIRTH]","Roe, Jane"',
      '2,1990-01-02',
      '3,02/01/1990,Doe',
    ]);
    assert.deepEqual(mask(['id;nome;cpf', '9;Ana;52998224725', '10;Rui;52998224726']), ['id;nome;cpf', '9;Ana;[BRAZIL_CPF_NUMBER]', '10;Rui;52998224726']);
  });

  it('column-aligned output (sqlite3 -column): cells by the header positions', () => {
    const input = [
      'id    name           dob          start_date',
      '----  -------------  -----------  ----------',
      '401   Grace Liu      1994-03-27   2024-05-06',
      '402   Tomas Herrera  15 Oct 1987  2024-05-13',
      'no table here, 1994-03-27 1994-03-27 1994-03-27',
    ];
    const expected = [...input];
    expected[2] = '401   Grace Liu      [DATE_OF_BIRTH]   2024-05-06';
    expected[3] = '402   Tomas Herrera  [DATE_OF_BIRTH]  2024-05-13';
    assert.deepEqual(mask(input), expected);
  });

  it('a header needs name-like cells: a labelled value line is not a header', () => {
    const input = ['dob | 1990-01-02', 'x | 2000-01-01', 'DOB,1990-01-02', 'x,2000-01-01'];
    assert.deepEqual(mask(input), ['dob | [DATE_OF_BIRTH]', 'x | 2000-01-01', 'DOB,1990-01-02', 'x,2000-01-01']);
  });

  it('an over-long line closes the table: its pieces are never rows', () => {
    const input = ['id,dob', `1,${'x'.repeat(MAX_PIECE_BYTES + 10)}`, '2,1990-01-02'];
    assert.deepEqual(mask(input), input);
  });

  it('any chunking of tables gives the same output', () => {
    const input = [
      ' id  |    dob     | ssn',
      '-----+------------+-----------',
      ' 101 | 1984-03-14 | 219099999',
      'id,date_of_birth',
      '7,1990-01-02',
      'id    dob',
      '----  ----------',
      '8     1991-02-03',
    ];
    const whole = mask(input);
    assert.equal(whole.join('\n').split('[').length - 1, 4);
    const length = Buffer.byteLength(`${input.join('\n')}\n`);
    for (let cut = 0; cut <= length; cut++) assert.deepEqual(mask(input, [cut]), whole, `cut at ${cut}`);
    fc.assert(
      fc.property(fc.array(fc.nat(length), { maxLength: 12 }), (cuts) => {
        assert.deepEqual(mask(input, cuts), whole);
      }),
      { numRuns: 200 },
    );
  });
});

describe('masking engine: candidate positions', () => {
  // Built-in regexes are only tried where the one-pass scan of detectors/candidates.ts lists a
  // candidate; a position it leaves out would be a value silently let through.
  function unlistedMatches(text: string): string[] {
    const candidates = candidatesOf(text);
    const unlisted: string[] = [];
    for (const { regex, startsAt } of allAnchoredRegexes()) {
      const listed = new Set(candidates[startsAt]);
      for (let position = 0; position < text.length; position++) {
        regex.lastIndex = position;
        const match = regex.exec(text);
        if (match !== null && match[0].length > 0 && !listed.has(position)) unlisted.push(`${startsAt}: ${JSON.stringify(match[0])} at ${position}`);
      }
    }
    return unlisted;
  }

  it('every built-in regex match starts at a listed candidate, on the corpus', () => {
    assert.ok(allAnchoredRegexes().length >= 20, 'the detectors declared their anchored regexes');
    assert.deepEqual(unlistedMatches(corpus.text), []);
  });

  it('every built-in regex match starts at a listed candidate, on the holdout corpus', () => {
    assert.deepEqual(unlistedMatches(holdout.text), []);
  });

  it('every built-in regex match starts at a listed candidate, on value-shaped fragments', () => {
    const fragment = fc.oneof(
      fc.constantFrom(...corpus.gold.map((g) => g.value), ...holdout.gold.map((g) => g.value)),
      fc.constantFrom(' ', '\n', '-', '.', ':', '::', '+', '@', '/', '_', ',', '"', '=', '(', ')', '\t', '', 'x', 'é', '1', '3', '0x', 'bc1', 'www.', 'https://', '\\', '\\r\\n', '|', '(11) ', '(21)9'),
      fc
        .tuple(
          fc.constantFrom('ssn', 'Social Security No', 'CPF', 'passport no.', 'DOB', 'd.o.b.', 'Date-Of-Birth', 'birth date', 'born on', 'aws_secret_access_key', 'Set-Cookie', 'cookie', '\\nCookie', '\\tset-cookie'),
          fc.constantFrom(': ', '=', ' ', '":"', '#', '      | ', ':            ', '="'),
          fc.constantFrom('1990-01-02', '02/01/1990', '3 March 1985', 'March 3, 1985', '123456789', '12345678909', 'A12345678', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'a=b'),
        )
        .map((parts) => parts.join('')),
      fc.stringOf(fc.constantFrom(...'0123456789 -.'), { maxLength: 24 }),
      fc.stringOf(fc.constantFrom(...'0123456789abcdefABCDEF:.'), { maxLength: 46 }),
      fc.stringOf(fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'), { minLength: 12, maxLength: 44 }),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (fragments) => {
        const text = fragments.join('');
        assert.deepEqual(unlistedMatches(text), [], text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('masking engine: metrics, labels and modes', () => {
  it('reports metrics in the shape of session metrics.data_masking', () => {
    const { output, metrics } = maskBuffer(Buffer.from('contact: jane.roe@example.org, ip 10.1.2.3\n'));
    assert.equal(output.toString(), 'contact: [EMAIL_ADDRESS], ip [IP_ADDRESS]\n');
    assert.deepEqual(metrics, {
      err_count: 0,
      info_types: { EMAIL_ADDRESS: 1, IP_ADDRESS: 1 },
      total_redact_count: 2,
      transformed_bytes: 'jane.roe@example.org'.length + '10.1.2.3'.length,
    });
  });

  it('only masks the requested types, labelled with the requested (Presidio) spelling', () => {
    const { output, metrics } = maskBuffer(Buffer.from('ssn 123-45-6789 card 4111 1111 1111 1111 mail a@example.com\n'), {
      entityTypes: ['US_SSN', 'CREDIT_CARD', 'PERSON'],
    });
    assert.equal(output.toString(), 'ssn [US_SSN] card [CREDIT_CARD] mail a@example.com\n');
    assert.deepEqual(metrics.info_types, { US_SSN: 1, CREDIT_CARD: 1 });
    assert.deepEqual(createMaskingStream({ entityTypes: ['PERSON', 'EMAIL_ADDRESS'] }).unsupportedEntityTypes, ['PERSON']);
  });

  it('applies custom regex (Python flavour) and deny-list types', () => {
    const { output, metrics } = maskBuffer(Buffer.from('zip 94107, project Falcon and falcon-2\n'), {
      entityTypes: [],
      customEntityTypes: [
        { name: 'ZIP_CODE', regex: '(?P<zip>\\b\\d{5}\\b)', score: 0.5 },
        { name: 'PROJECT', deny_list: ['falcon'], score: 0.5 },
      ],
    });
    assert.equal(output.toString(), 'zip [ZIP_CODE], project [PROJECT] and [PROJECT]-2\n');
    assert.equal(metrics.total_redact_count, 3);
  });

  it('removes a private key block split across many chunks as one redaction', () => {
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${'QUJD'.repeat(16)}\n${'REVG'.repeat(16)}\n-----END RSA PRIVATE KEY-----`;
    const input = Buffer.from(`before\n${key}\nafter\n`);
    const { output, metrics } = maskInChunks(input, [3, 20, 40, 90, 130, 150]);
    assert.equal(output.toString(), 'before\n[PRIVATE_KEY]\nafter\n');
    assert.equal(metrics.info_types.PRIVATE_KEY, 1);
    assert.equal(metrics.transformed_bytes, key.length);
  });

  it('finds values in lines longer than the hold-back limit', () => {
    const filler = 'x'.repeat(MAX_PIECE_BYTES);
    const input = Buffer.from(`{"a":"${filler}","mail":"jane@example.org","b":"${filler}"}`);
    const output = maskInChunks(input, [100, 5000, 9000]).output.toString();
    assert.ok(output.includes('"mail":"[EMAIL_ADDRESS]"'));
    assert.equal(output.length, input.length - 'jane@example.org'.length + '[EMAIL_ADDRESS]'.length);
  });

  const failing: Detector = {
    entityTypes: ['BROKEN'],
    find(text) {
      if (text.includes('boom')) throw new Error('detector failure');
    },
  };

  it('strict mode (default) withholds text a detector failed on and counts the error', () => {
    const stream = createMaskingStream({ detectors: [failing] });
    const first = stream.write(Buffer.from('ok line jane@example.org\n'));
    const second = stream.write(Buffer.from('boom with card 4111111111111111\n'));
    assert.equal(first.toString(), 'ok line [EMAIL_ADDRESS]\n');
    assert.equal(second.toString(), `${MASKING_ERROR_MARKER}\n`);
    assert.equal(stream.metrics().err_count, 1);
  });

  it('best-effort mode lets text through when a detector fails, masked by the others', () => {
    const stream = createMaskingStream({ detectors: [failing], mode: 'best-effort' });
    const output = Buffer.concat([stream.write(Buffer.from('boom with card 4111111111111111\n')), stream.end()]);
    assert.equal(output.toString(), 'boom with card [CREDIT_CARD_NUMBER]\n');
    assert.equal(stream.metrics().err_count, 1);
  });

  it('refuses writes after end', () => {
    const stream = createMaskingStream();
    stream.end();
    assert.throws(() => stream.write(Buffer.from('x')), /already ended/);
  });
});

describe('masking engine: keccak256 and EIP-55', () => {
  /** Independent reference: the straightforward BigInt keccak256 the 32-bit one replaced. */
  function referenceKeccak256(input: Uint8Array): string {
    const mask = (1n << 64n) - 1n;
    const roundConstants = [
      0x1n, 0x8082n, 0x800000000000808an, 0x8000000080008000n, 0x808bn, 0x80000001n, 0x8000000080008081n,
      0x8000000000008009n, 0x8an, 0x88n, 0x80008009n, 0x8000000an, 0x8000808bn, 0x800000000000008bn,
      0x8000000000008089n, 0x8000000000008003n, 0x8000000000008002n, 0x8000000000000080n, 0x800an,
      0x800000008000000an, 0x8000000080008081n, 0x8000000000008080n, 0x80000001n, 0x8000000080008008n,
    ];
    const rotations = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
    const rotl = (v: bigint, n: number) => (n === 0 ? v : ((v << BigInt(n)) | (v >> BigInt(64 - n))) & mask);
    const padded = new Uint8Array(Math.ceil((input.length + 1) / 136) * 136);
    padded.set(input);
    padded[input.length] = 0x01;
    padded[padded.length - 1] = (padded[padded.length - 1] ?? 0) | 0x80;
    const a = new Array<bigint>(25).fill(0n);
    const at = (i: number) => a[i] ?? 0n;
    for (let offset = 0; offset < padded.length; offset += 136) {
      for (let i = 0; i < 17; i++) a[i] = at(i) ^ Buffer.from(padded.subarray(offset + 8 * i, offset + 8 * i + 8)).readBigUInt64LE();
      for (const rc of roundConstants) {
        const c = [0, 1, 2, 3, 4].map((x) => at(x) ^ at(x + 5) ^ at(x + 10) ^ at(x + 15) ^ at(x + 20));
        for (let i = 0; i < 25; i++) a[i] = at(i) ^ (c[(i + 4) % 5] ?? 0n) ^ rotl(c[(i + 1) % 5] ?? 0n, 1);
        const b = new Array<bigint>(25).fill(0n);
        for (let x = 0; x < 5; x++) {
          for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(at(x + 5 * y), rotations[x + 5 * y] ?? 0);
        }
        for (let i = 0; i < 25; i++) {
          const row = i - (i % 5);
          a[i] = (b[i] ?? 0n) ^ (~(b[row + ((i + 1) % 5)] ?? 0n) & mask & (b[row + ((i + 2) % 5)] ?? 0n));
        }
        a[0] = at(0) ^ rc;
      }
    }
    const out = Buffer.alloc(32);
    for (let i = 0; i < 4; i++) out.writeBigUInt64LE(at(i), 8 * i);
    return out.toString('hex');
  }
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  const bytesOf = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 7 + 3) & 0xff);

  it('matches the published vectors', () => {
    assert.equal(hex(keccak256(new Uint8Array())), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    assert.equal(hex(keccak256(Buffer.from('abc'))), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
    assert.equal(referenceKeccak256(Buffer.from('abc')), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });

  it('matches the BigInt reference around the 136-byte rate and over several blocks', () => {
    for (const length of [1, 31, 32, 40, 41, 133, 134, 135, 136, 137, 271, 272, 273, 1000]) {
      const input = bytesOf(length, length);
      assert.equal(hex(keccak256(input)), referenceKeccak256(input), `length ${length}`);
    }
    const out = new Uint8Array(32);
    assert.equal(hex(keccak256Into(bytesOf(137, 1), out)), referenceKeccak256(bytesOf(137, 1)));
    assert.equal(hex(keccak256(bytesOf(137, 1))), hex(out), 'the reused state leaks nothing between calls');
  });

  const EIP55_VECTORS = [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ];
  const flipCase = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

  it('validates the EIP-55 vectors and rejects every single-letter case flip', () => {
    for (const address of EIP55_VECTORS) {
      assert.ok(eip55Valid(address.slice(2)), address);
      assert.ok(eip55Valid(address, 2), address);
      for (let i = 2; i < address.length; i++) {
        if (/[0-9]/.test(address[i] ?? '')) continue;
        const flipped = address.slice(0, i) + flipCase(address[i] ?? '') + address.slice(i + 1);
        assert.ok(!eip55Valid(flipped.slice(2)), flipped);
      }
    }
  });

  it('masks checksummed and single-case addresses, not mixed-case ones with a bad checksum', () => {
    const mixed = EIP55_VECTORS.slice(0, 4);
    const broken = mixed.map((a) => {
      const letter = a.slice(2).search(/[a-f]/i) + 2;
      return a.slice(0, letter) + flipCase(a[letter] ?? '') + a.slice(letter + 1);
    });
    const lines = [...mixed, ...broken, mixed[0]?.toLowerCase(), mixed[1]?.toUpperCase().replace('0X', '0x')];
    const output = maskBuffer(Buffer.from(lines.map((a) => `to ${a}\n`).join(''))).output.toString();
    assert.equal(output, [...mixed.map(() => '[CRYPTO]'), ...broken, '[CRYPTO]', '[CRYPTO]'].map((a) => `to ${a}\n`).join(''));
  });
});

describe('masking engine: single field values (database rows)', () => {
  it('masks a value whole when its column labels it, finds values anywhere else, and counts both', () => {
    const masker = createMaskingStream({ entityTypes: ['EMAIL_ADDRESS', 'DATE_OF_BIRTH'] });
    const value = (text: string, column?: string) => masker.maskValue(Buffer.from(text), column).toString();
    assert.equal(value('1990-01-02', 'dob'), '[DATE_OF_BIRTH]');
    assert.equal(value('1990-01-02', 'created_at'), '1990-01-02');
    assert.equal(value('not a date', 'dob'), 'not a date');
    assert.equal(value('write to ann@example.com\nor bob@example.org', 'notes'), 'write to [EMAIL_ADDRESS]\nor [EMAIL_ADDRESS]');
    assert.deepEqual(masker.metrics().info_types, { DATE_OF_BIRTH: 1, EMAIL_ADDRESS: 2 });
  });

  it('leaves the stream held back by write untouched', () => {
    const masker = createMaskingStream({ entityTypes: ['EMAIL_ADDRESS'] });
    assert.equal(masker.write(Buffer.from('to: carol@exa')).toString(), '');
    assert.equal(masker.maskValue(Buffer.from('dan@example.com')).toString(), '[EMAIL_ADDRESS]');
    assert.equal(Buffer.concat([masker.write(Buffer.from('mple.com\n')), masker.end()]).toString(), 'to: [EMAIL_ADDRESS]\n');
  });
});
