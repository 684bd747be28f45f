import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendFilter } from '../src/gateway/native-pg/backend-filter.js';
import { createMaskingStream } from '../src/masking/index.js';
import {
  encodeBackendKeyData,
  encodeCommandComplete,
  encodeDataRow,
  encodeErrorResponse,
  encodeReadyForQuery,
  encodeRowDescription,
  type RowField,
} from '../src/wire/pg/index.js';

/** The server's messages on their way to a native client (src/gateway/native-pg/backend-filter.ts). */

const field = (name: string): RowField => ({ name, tableOid: 0, columnNumber: 0, typeOid: 25, typeSize: -1, typeModifier: -1, format: 0 });

function filterInPieces(filter: BackendFilter, bytes: Buffer, cut: number): Buffer {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += cut) out.push(filter.filter(bytes.subarray(offset, offset + cut)));
  return Buffer.concat(out);
}

describe('native postgres: the backend filter', () => {
  const reply = Buffer.concat([
    encodeBackendKeyData(4242, Buffer.from([1, 2, 3, 4])),
    encodeRowDescription([field('contact'), field('dob')]),
    encodeDataRow(['ann@example.com', '1990-01-02']),
    encodeDataRow([null, 'unknown']),
    encodeCommandComplete('SELECT 2'),
    encodeReadyForQuery('T'),
  ]);

  it('without masking, passes every byte as it came however the stream is cut, and learns the cancel key and transaction status', () => {
    for (const cut of [1, 2, 3, 7, 64, reply.length]) {
      const keys: number[] = [];
      const filter = new BackendFilter({ masker: undefined, onBackendKey: (processId) => keys.push(processId) });
      assert.deepEqual(filterInPieces(filter, reply, cut), reply, `cut every ${cut} bytes`);
      assert.deepEqual(keys, [4242]);
      assert.equal(filter.transactionStatus, 'T');
    }
  });

  it('masks each field, whole under a labelling column name, however the stream is cut', () => {
    const expected = Buffer.concat([
      encodeBackendKeyData(4242, Buffer.from([1, 2, 3, 4])),
      encodeRowDescription([field('contact'), field('dob')]),
      encodeDataRow(['[EMAIL_ADDRESS]', '[DATE_OF_BIRTH]']),
      encodeDataRow([null, 'unknown']),
      encodeCommandComplete('SELECT 2'),
      encodeReadyForQuery('T'),
    ]);
    for (const cut of [1, 5, reply.length]) {
      const filter = new BackendFilter({ masker: createMaskingStream({ entityTypes: ['EMAIL_ADDRESS', 'DATE_OF_BIRTH'] }), onBackendKey: () => {} });
      assert.deepEqual(filterInPieces(filter, reply, cut), expected);
    }
  });

  it("replaces the server's error about a blocked query's stand-in with the guard rail's error, once; other errors pass", () => {
    const filter = new BackendFilter({ masker: undefined, onBackendKey: () => {} });
    const guardrail = { severity: 'ERROR', code: '42501', message: 'Blocked by the following Guardrails rule: no drops' };
    const standIn = filter.blockQuery(guardrail);
    assert.match(standIn, /^gatehouse_guardrail_[0-9a-f]{16}$/);
    const syntaxError = encodeErrorResponse({ severity: 'ERROR', code: '42601', message: `syntax error at or near "${standIn}"` });
    assert.deepEqual(filter.filter(syntaxError), encodeErrorResponse(guardrail));
    assert.deepEqual(filter.filter(syntaxError), syntaxError, 'a stand-in is replaced once');
    const fatal = encodeErrorResponse({ severity: 'FATAL', code: '57P01', message: 'terminating connection due to administrator command' });
    assert.deepEqual(filter.filter(fatal), fatal);
    assert.equal(filter.endedWithFatal, true);
  });
});
