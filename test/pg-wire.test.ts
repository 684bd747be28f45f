import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  PgAuthError,
  PgClientAuthenticator,
  PgMessageReader,
  PgProtocolError,
  ScramSha256Client,
  captureRawQuery,
  decodeBackendMessage,
  decodeFrontendMessage,
  decodePasswordMessage,
  decodeSASLInitialResponse,
  decodeStartupPacket,
  encodeAuthentication,
  encodeBackendKeyData,
  encodeBackendMessage,
  encodeBind,
  encodeCancelRequest,
  encodeCommandComplete,
  encodeDataRow,
  encodeErrorResponse,
  encodeExecute,
  encodeFrontendMessage,
  encodeGSSENCRequest,
  encodeNoticeResponse,
  encodeOpaque,
  encodeParameterStatus,
  encodeParse,
  encodeQuery,
  encodeReadyForQuery,
  encodeRowDescription,
  encodeSSLRequest,
  encodeStartupMessage,
  encodeStartupPacket,
  encodeSync,
  encodeTerminate,
  md5PasswordResponse,
  pgSaslprep,
  readPgFrames,
  type AuthenticationRequest,
  type BackendMessage,
  type PgFrame,
} from '../src/wire/pg/index.js';

// ---------------------------------------------------------------------------------------------
// Recorded streams: what a client and a server write in one session, startup to Terminate.

const clientStream: Buffer[] = [
  encodeSSLRequest(),
  encodeStartupMessage({ user: 'alice', database: 'pg', application_name: 'psql' }),
  encodePasswordMessageBytes('md5' + 'a'.repeat(32)),
  encodeQuery('select 1; select \'é\''),
  encodeParse('stmt1', 'select $1::int, $2::bytea', [23, 17]),
  encodeBind({ portal: '', statement: 'stmt1', parameterFormats: [0, 1], parameters: ['42', Buffer.from([0, 255, 1])], resultFormats: [0] }),
  encodeBind({ parameters: [null, '', 'x'] }),
  encodeOpaque('D', Buffer.from('P\0')),
  encodeExecute('', 0),
  encodeSync(),
  encodeOpaque('d', Buffer.alloc(70_000, 7)), // CopyData larger than a typical socket chunk
  encodeTerminate(),
];

const RECORDED_ERROR_FIELDS = {
    severity: 'ERROR',
    severityNonLocalized: 'ERROR',
    code: '42P01',
    message: 'relation "nope" does not exist',
    position: '15',
    hint: 'check the name',
    other: { Z: 'future field' },
  };

const serverStream: Buffer[] = [
  encodeAuthentication({ name: 'AuthenticationMD5Password', salt: Buffer.from([1, 2, 3, 4]) }),
  encodeAuthentication({ name: 'AuthenticationOk' }),
  encodeParameterStatus('server_version', '15.20'),
  encodeParameterStatus('client_encoding', 'UTF8'),
  encodeBackendKeyData(4242, Buffer.from([9, 8, 7, 6])),
  encodeReadyForQuery('I'),
  encodeRowDescription([
    { name: 'answer', tableOid: 0, columnNumber: 0, typeOid: 23, typeSize: 4, typeModifier: -1, format: 0 },
    { name: 'blob', tableOid: 16384, columnNumber: 2, typeOid: 17, typeSize: -1, typeModifier: -1, format: 1 },
  ]),
  encodeDataRow(['42', null]),
  encodeDataRow(['', Buffer.alloc(100_000, 1)]),
  encodeCommandComplete('SELECT 2'),
  encodeNoticeResponse({ severity: 'NOTICE', code: '00000', message: 'hello' }),
  encodeErrorResponse(RECORDED_ERROR_FIELDS),
  encodeOpaque('1', Buffer.alloc(0)),
  encodeReadyForQuery('E'),
];

function encodePasswordMessageBytes(password: string): Buffer {
  return encodeFrontendMessage({ name: 'AuthenticationResponse', body: Buffer.from(password + '\0') });
}

function framesOf(from: 'client' | 'server', chunks: readonly Buffer[]): PgFrame[] {
  const reader = new PgMessageReader({ from });
  const frames: PgFrame[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    frames.push(...reader.drain());
  }
  assert.equal(reader.bufferedBytes, 0);
  return frames;
}

/** Cuts `whole` at the given offsets (any order, duplicates allowed: empty chunks are pushed too). */
function splitAt(whole: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, whole.length]) {
    pieces.push(whole.subarray(start, point));
    start = point;
  }
  return pieces;
}

function protocolError(action: () => unknown, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => error instanceof PgProtocolError && pattern.test(error.message));
}

// ---------------------------------------------------------------------------------------------

describe('framing', () => {
  it('cuts a client stream into startup packets then typed messages', () => {
    const frames = framesOf('client', [Buffer.concat(clientStream)]);
    assert.deepEqual(
      frames.map((frame) => (frame.kind === 'typed' ? frame.type : frame.kind)),
      ['startup', 'startup', 'p', 'Q', 'P', 'B', 'B', 'D', 'E', 'S', 'd', 'X'],
    );
    assert.deepEqual(frames.map((frame) => frame.raw), clientStream);
    const [ssl, startup] = frames;
    assert.ok(ssl?.kind === 'startup' && startup?.kind === 'startup');
    assert.deepEqual(decodeStartupPacket(ssl.body), { name: 'SSLRequest' });
    const decoded = decodeStartupPacket(startup.body);
    assert.ok(decoded.name === 'StartupMessage');
    assert.equal(decoded.protocolVersion, 0x30000);
    assert.deepEqual([...decoded.parameters], [['user', 'alice'], ['database', 'pg'], ['application_name', 'psql']]);
  });

  it('decodes any split of recorded streams to the same messages (both directions)', () => {
    const client = Buffer.concat(clientStream);
    const server = Buffer.concat(serverStream);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), (clientCuts, serverCuts) => {
        assert.deepEqual(framesOf('client', splitAt(client, clientCuts)).map((frame) => frame.raw), clientStream);
        assert.deepEqual(framesOf('server', splitAt(server, serverCuts)).map((frame) => frame.raw), serverStream);
      }),
      { numRuns: 300 },
    );
    // Byte by byte, the worst case for a reader that copies.
    assert.deepEqual(framesOf('server', splitAt(server, [...server.keys()])).map((frame) => frame.raw), serverStream);
  });

  it('refuses a message longer than the limit as soon as its header arrives', () => {
    const reader = new PgMessageReader({ from: 'server' });
    const header = Buffer.alloc(5);
    header.write('D');
    header.writeInt32BE(DEFAULT_MAX_MESSAGE_BYTES + 1, 1);
    reader.push(header);
    protocolError(() => reader.next(), /exceeds the limit of 67108864 bytes/);

    const small = new PgMessageReader({ from: 'client', maxMessageBytes: 1024 });
    small.push(encodeStartupMessage({ user: 'u' }));
    assert.equal(small.next()?.kind, 'startup');
    small.push(encodeQuery('x'.repeat(1019))); // length 4 + 1020 = 1024: at the limit
    assert.equal(small.next()?.kind, 'typed');
    small.push(encodeQuery('x'.repeat(1020)).subarray(0, 5));
    protocolError(() => small.next(), /message length 1025 exceeds the limit of 1024 bytes/);
  });

  it('refuses invalid lengths and oversized startup packets', () => {
    const tooShort = new PgMessageReader({ from: 'server' });
    tooShort.push(Buffer.from([0x5a, 0, 0, 0, 3]));
    protocolError(() => tooShort.next(), /invalid message length 3/);

    const hugeStartup = new PgMessageReader({ from: 'client' });
    const header = Buffer.alloc(8);
    header.writeInt32BE(10_001, 0);
    header.writeInt32BE(0x30000, 4);
    hugeStartup.push(header);
    protocolError(() => hugeStartup.next(), /invalid startup packet length 10001/);

    protocolError(() => decodeStartupPacket(Buffer.from([0, 2, 0, 0, 0])), /unsupported frontend protocol 2.0/);
  });

  it('keeps the startup phase across SSL/GSS requests and ends it at a cancel', () => {
    const reader = new PgMessageReader({ from: 'client' });
    reader.push(encodeSSLRequest());
    assert.equal(reader.next()?.kind, 'startup');
    assert.equal(reader.bufferedBytes, 0, 'nothing may be buffered before the TLS handshake');
    reader.push(encodeGSSENCRequest());
    const gss = reader.next();
    assert.ok(gss?.kind === 'startup');
    assert.deepEqual(decodeStartupPacket(gss.body), { name: 'GSSENCRequest' });

    const cancel = new PgMessageReader({ from: 'client' });
    cancel.push(encodeCancelRequest(1234, Buffer.from([1, 2, 3, 4])));
    const frame = cancel.next();
    assert.ok(frame?.kind === 'startup');
    assert.deepEqual(decodeStartupPacket(frame.body), { name: 'CancelRequest', processId: 1234, secretKey: Buffer.from([1, 2, 3, 4]) });
    protocolError(() => cancel.push(Buffer.from('Q')), /after CancelRequest/);
  });

  it('reads the server one-byte answer to an SSLRequest, then typed messages', () => {
    const reader = new PgMessageReader({ from: 'server' });
    reader.expectNegotiationAnswer();
    reader.push(Buffer.concat([Buffer.from('N'), encodeReadyForQuery('I')]));
    assert.deepEqual(reader.next(), { kind: 'negotiation', answer: 'N', raw: Buffer.from('N') });
    const next = reader.next();
    assert.ok(next?.kind === 'typed' && next.type === 'Z');
  });

  it('fails when the stream ends inside a message', async () => {
    async function* source() {
      yield encodeQuery('select 1').subarray(0, 7);
    }
    const frames = readPgFrames(source(), new PgMessageReader({ from: 'server' }));
    await assert.rejects(frames.next(), /closed in the middle of a message/);
  });
});

describe('message codecs', () => {
  it('round-trips every recorded server message through decode and encode', () => {
    for (const frame of framesOf('server', serverStream)) {
      assert.ok(frame.kind === 'typed');
      assert.deepEqual(encodeBackendMessage(decodeBackendMessage(frame)), frame.raw);
    }
  });

  it('round-trips every recorded client message through decode and encode', () => {
    for (const frame of framesOf('client', clientStream)) {
      assert.ok(frame.kind !== 'negotiation');
      const encoded = frame.kind === 'typed' ? encodeFrontendMessage(decodeFrontendMessage(frame)) : encodeStartupPacket(decodeStartupPacket(frame.body));
      assert.deepEqual(encoded, frame.raw);
    }
  });

  it('decodes the fields a proxy reads', () => {
    const decoded = framesOf('server', serverStream).map((frame) => {
      assert.ok(frame.kind === 'typed');
      return decodeBackendMessage(frame);
    });
    const [md5, ok, , , keyData, ready, rowDescription, row, bigRow, complete, notice, , opaque, failedReady] = decoded;
    assert.deepEqual(md5, { name: 'AuthenticationMD5Password', salt: Buffer.from([1, 2, 3, 4]) });
    assert.deepEqual(ok, { name: 'AuthenticationOk' });
    assert.deepEqual(keyData, { name: 'BackendKeyData', processId: 4242, secretKey: Buffer.from([9, 8, 7, 6]) });
    assert.deepEqual(ready, { name: 'ReadyForQuery', status: 'I' });
    assert.ok(rowDescription?.name === 'RowDescription');
    assert.deepEqual(rowDescription.fields.map((field) => [field.name, field.tableOid, field.columnNumber, field.typeOid, field.typeSize, field.format]), [
      ['answer', 0, 0, 23, 4, 0],
      ['blob', 16384, 2, 17, -1, 1],
    ]);
    assert.deepEqual(row, { name: 'DataRow', values: [Buffer.from('42'), null] });
    assert.ok(bigRow?.name === 'DataRow');
    assert.deepEqual(bigRow.values[0], Buffer.alloc(0), 'an empty value is not NULL');
    assert.equal(bigRow.values[1]?.length, 100_000);
    assert.deepEqual(complete, { name: 'CommandComplete', tag: 'SELECT 2' });
    assert.deepEqual(notice, { name: 'NoticeResponse', fields: { severity: 'NOTICE', code: '00000', message: 'hello' } });
    assert.deepEqual(opaque, { name: 'Opaque', type: '1', body: Buffer.alloc(0) });
    assert.deepEqual(failedReady, { name: 'ReadyForQuery', status: 'E' });

    const errorResponse = decodeBackendMessage({ type: 'E', body: serverStream[11]!.subarray(5) });
    assert.deepEqual(errorResponse, {
      name: 'ErrorResponse',
      fields: RECORDED_ERROR_FIELDS,
    });

    const bind = decodeFrontendMessage({ type: 'B', body: encodeBind({ parameters: [null, '', 'x'] }).subarray(5) });
    assert.deepEqual(bind, { name: 'Bind', portal: '', statement: '', parameterFormats: [], parameters: [null, Buffer.alloc(0), Buffer.from('x')], resultFormats: [] });
    const parse = decodeFrontendMessage({ type: 'P', body: encodeParse('s', 'select $1', [25]).subarray(5) });
    assert.deepEqual(parse, { name: 'Parse', statementName: 's', query: 'select $1', parameterTypes: [25] });
    assert.deepEqual(decodeFrontendMessage({ type: 'E', body: encodeExecute('p', 10).subarray(5) }), { name: 'Execute', portal: 'p', maxRows: 10 });

    const sasl = decodeBackendMessage({ type: 'R', body: encodeAuthentication({ name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] }).subarray(5) });
    assert.deepEqual(sasl, { name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] });
  });

  it('refuses truncated messages, trailing bytes and bad values', () => {
    protocolError(() => decodeFrontendMessage({ type: 'Q', body: Buffer.from('select 1') }), /Query: string is not NUL-terminated/);
    protocolError(() => decodeFrontendMessage({ type: 'S', body: Buffer.from([0]) }), /Sync: 1 unexpected trailing bytes/);
    protocolError(() => decodeBackendMessage({ type: 'D', body: Buffer.from([0, 1, 0xff, 0xff, 0xff, 0xfe]) }), /DataRow: invalid value length -2/);
    protocolError(() => decodeBackendMessage({ type: 'D', body: Buffer.from([0, 2, 0, 0, 0, 1, 65]) }), /DataRow: message ends too early/);
    protocolError(() => decodeBackendMessage({ type: 'Z', body: Buffer.from('X') }), /unknown status X/);
    protocolError(() => encodeQuery('a\0b'), /cannot contain a NUL/);
  });
});

// ---------------------------------------------------------------------------------------------

/** RFC 7677 §3. */
const RFC7677 = {
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

/**
 * The server half of SCRAM-SHA-256, written the way a server checks a proof (recover ClientKey
 * from the proof, compare its hash with StoredKey), not the way the client computes it.
 */
function scramServer(password: string, salt: Buffer, iterations: number, serverNonceSuffix: string) {
  const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', saltedPassword).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  let clientFirstBare = '';
  let serverFirst = '';
  return {
    first(clientFirst: string): string {
      assert.ok(clientFirst.startsWith('n,,'));
      clientFirstBare = clientFirst.slice(3);
      const clientNonce = /r=([^,]+)/.exec(clientFirstBare)![1]!;
      serverFirst = `r=${clientNonce}${serverNonceSuffix},s=${salt.toString('base64')},i=${iterations}`;
      return serverFirst;
    },
    final(clientFinal: string): { ok: boolean; serverFinal: string } {
      const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
      const proof = Buffer.from(clientFinal.slice(clientFinal.lastIndexOf(',p=') + 3), 'base64');
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
      const clientKey = Buffer.from(proof.map((byte, index) => byte ^ clientSignature[index]!));
      const ok = timingSafeEqual(createHash('sha256').update(clientKey).digest(), storedKey);
      return { ok, serverFinal: `v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}` };
    },
  };
}

function authBody(message: Buffer | null): Buffer {
  assert.ok(message && message[0] === 'p'.charCodeAt(0));
  return message.subarray(5);
}

describe('client-side authentication', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 exchange and verifies the server signature', async () => {
    const client = new ScramSha256Client({ username: 'user', password: 'pencil', clientNonce: RFC7677.clientNonce });
    assert.equal(client.clientFirstMessage, RFC7677.clientFirst);
    assert.equal(await client.clientFinalMessage(RFC7677.serverFirst), RFC7677.clientFinal);
    assert.equal(client.verified, false);
    client.verifyServerFinalMessage(RFC7677.serverFinal);
    assert.equal(client.verified, true);
  });

  it('refuses a wrong server signature, a server error, a foreign nonce and too many iterations', async () => {
    const forged = new ScramSha256Client({ username: 'user', password: 'pencil', clientNonce: RFC7677.clientNonce });
    await forged.clientFinalMessage(RFC7677.serverFirst);
    assert.throws(() => forged.verifyServerFinalMessage('v=' + Buffer.alloc(32, 1).toString('base64')), /server signature does not match/);

    const refused = new ScramSha256Client({ username: 'user', password: 'pencil', clientNonce: RFC7677.clientNonce });
    await refused.clientFinalMessage(RFC7677.serverFirst);
    assert.throws(() => refused.verifyServerFinalMessage('e=invalid-proof'), /refused the proof \(invalid-proof\)/);

    const foreign = new ScramSha256Client({ password: 'pencil', clientNonce: 'abc' });
    await assert.rejects(foreign.clientFinalMessage('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'), /does not extend the client nonce/);

    const slow = new ScramSha256Client({ password: 'pencil', clientNonce: 'abc', maxIterations: 10_000 });
    await assert.rejects(slow.clientFinalMessage('r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10001'), /more than the limit of 10000/);
  });

  it('logs in with SCRAM-SHA-256 through the authenticator against a simulated server', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const server = scramServer('s3cret pässword', salt, 4096, 'SERVERNONCE');
    const auth = new PgClientAuthenticator({ user: 'app', password: 's3cret pässword' });

    const initial = decodeSASLInitialResponse(authBody(await auth.respond({ name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] })));
    assert.equal(initial.mechanism, 'SCRAM-SHA-256');
    const clientFirst = initial.data!.toString();
    assert.match(clientFirst, /^n,,n=,r=[A-Za-z0-9+/=]{24}$/, 'gs2 header n,, and an empty user as libpq sends');

    const serverFirst = server.first(clientFirst);
    const clientFinal = authBody(await auth.respond({ name: 'AuthenticationSASLContinue', data: Buffer.from(serverFirst) })).toString();
    const { ok, serverFinal } = server.final(clientFinal);
    assert.ok(ok, 'the server accepts the proof');

    assert.equal(await auth.respond({ name: 'AuthenticationSASLFinal', data: Buffer.from(serverFinal) }), null);
    assert.equal(await auth.respond({ name: 'AuthenticationOk' }), null);
    assert.equal(auth.authenticated, true);
    assert.equal(auth.method, 'scram-sha-256');
  });

  it('refuses AuthenticationOk in the middle of SCRAM and a wrong password is caught by the server', async () => {
    const impostor = new PgClientAuthenticator({ user: 'app', password: 'pw' });
    await impostor.respond({ name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256'] });
    await assert.rejects(impostor.respond({ name: 'AuthenticationOk' }), (error: unknown) => error instanceof PgAuthError && /without proving/.test(error.message));

    const server = scramServer('right', Buffer.from('salty'), 4096, 'X');
    const wrong = new PgClientAuthenticator({ user: 'app', password: 'wrong' });
    const clientFirst = decodeSASLInitialResponse(authBody(await wrong.respond({ name: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256'] }))).data!.toString();
    const clientFinal = authBody(await wrong.respond({ name: 'AuthenticationSASLContinue', data: Buffer.from(server.first(clientFirst)) })).toString();
    const { ok, serverFinal } = server.final(clientFinal);
    assert.equal(ok, false);
    // Even the genuine server's signature does not match a client that used another password.
    await assert.rejects(wrong.respond({ name: 'AuthenticationSASLFinal', data: Buffer.from(serverFinal) }), /server signature does not match/);
  });

  it('answers MD5 with the known value and cleartext with the password', async () => {
    // md5sum of "postgrespostgres" is 3175bce1d3201d16594cebf9d7eb3f9d; md5sum of that hex plus
    // the bytes 01 02 03 04 is 68be9ed08db75f318087ab337aaea044 (computed with coreutils md5sum).
    assert.equal(md5PasswordResponse('postgres', 'postgres', Buffer.from([1, 2, 3, 4])), 'md568be9ed08db75f318087ab337aaea044');

    const auth = new PgClientAuthenticator({ user: 'postgres', password: 'postgres' });
    const md5 = await auth.respond({ name: 'AuthenticationMD5Password', salt: Buffer.from([1, 2, 3, 4]) });
    assert.deepEqual(decodePasswordMessage(authBody(md5)), { password: 'md568be9ed08db75f318087ab337aaea044' });
    await auth.respond({ name: 'AuthenticationOk' });
    assert.equal(auth.method, 'md5');

    const clear = new PgClientAuthenticator({ user: 'u', password: 'hunter2' });
    assert.deepEqual(decodePasswordMessage(authBody(await clear.respond({ name: 'AuthenticationCleartextPassword' }))), { password: 'hunter2' });
  });

  it('refuses methods that are not allowed or not supported', async () => {
    const noCleartext = new PgClientAuthenticator({ user: 'u', password: 'p' }, { allowedMethods: new Set(['scram-sha-256']) });
    await assert.rejects(noCleartext.respond({ name: 'AuthenticationCleartextPassword' }), /cleartext authentication, which is not allowed/);
    const noTrust = new PgClientAuthenticator({ user: 'u', password: 'p' }, { allowedMethods: new Set(['md5']) });
    await assert.rejects(noTrust.respond({ name: 'AuthenticationOk' }), /trust authentication, which is not allowed/);
    const gss: AuthenticationRequest = { name: 'AuthenticationOther', code: 7, data: Buffer.alloc(0) };
    await assert.rejects(new PgClientAuthenticator({ user: 'u', password: 'p' }).respond(gss), /unsupported authentication method \(code 7\)/);
    await assert.rejects(
      new PgClientAuthenticator({ user: 'u', password: 'p' }).respond({ name: 'AuthenticationSASL', mechanisms: ['OAUTHBEARER'] }),
      /no supported SASL mechanism offered \(OAUTHBEARER\)/,
    );
  });

  it('prepares passwords like PostgreSQL (SASLprep with raw fallback)', () => {
    assert.equal(pgSaslprep('pencil'), 'pencil');
    assert.equal(pgSaslprep('tab\there\x07'), 'tab\there\x07', 'ASCII is used as is, control characters included');
    assert.equal(pgSaslprep('I\u00adX'), 'IX', 'soft hyphen maps to nothing (RFC 4013 example)');
    assert.equal(pgSaslprep('\u00aa'), 'a', 'NFKC (RFC 4013 example)');
    assert.equal(pgSaslprep('\u2168'), 'IX', 'NFKC (RFC 4013 example)');
    assert.equal(pgSaslprep('a\u00a0b'), 'a b', 'non-ASCII space becomes a space');
    assert.equal(pgSaslprep('\u2168\u0007'), '\u2168\u0007', 'prohibited character: the raw password, as PostgreSQL does');
    assert.equal(pgSaslprep('caf\u0065\u0301'), 'caf\u00e9');
  });
});

describe('raw query capture', () => {
  it('returns the SQL of Query and Parse and the values of Bind', () => {
    assert.deepEqual(captureRawQuery(encodeQuery("select 'é'")), { kind: 'query', sql: "select 'é'" });
    assert.deepEqual(captureRawQuery(encodeParse('s1', 'select $1, $2', [25])), { kind: 'parse', statementName: 's1', sql: 'select $1, $2' });
    assert.deepEqual(
      captureRawQuery(encodeBind({ statement: 's1', parameterFormats: [0, 1, 0], parameters: ['héllo', Buffer.from([0, 1, 255]), null] })),
      { kind: 'bind', portal: '', statement: 's1', parameters: ['héllo', { base64: 'AAH/' }, null] },
    );
    // No formats: every parameter is text. One format: it applies to all.
    assert.deepEqual(captureRawQuery(encodeBind({ parameters: ['1', null] })), { kind: 'bind', portal: '', statement: '', parameters: ['1', null] });
    assert.deepEqual(captureRawQuery(encodeBind({ parameterFormats: [1], parameters: [Buffer.from([0, 0, 0, 42]), Buffer.from('a')] })), {
      kind: 'bind',
      portal: '',
      statement: '',
      parameters: [{ base64: 'AAAAKg==' }, { base64: 'YQ==' }],
    });
    // Text that is not UTF-8 keeps its bytes.
    assert.deepEqual(captureRawQuery(encodeBind({ parameters: [Buffer.from([0xe9])] })), { kind: 'bind', portal: '', statement: '', parameters: [{ base64: '6Q==' }] });
  });

  it('ignores other messages and refuses a message whose length does not match', () => {
    for (const message of [encodeExecute(), encodeSync(), encodeTerminate(), encodeStartupMessage({ user: 'u' }), encodeCancelRequest(1, Buffer.alloc(4))]) {
      assert.equal(captureRawQuery(message), null);
    }
    protocolError(() => captureRawQuery(Buffer.concat([encodeQuery('select 1'), Buffer.from('x')])), /length does not match/);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the machine's PostgreSQL (trust on loopback): only this module's encoders and decoders.

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;

class PgTestConnection {
  readonly received: Buffer[] = [];
  private readonly frames: AsyncGenerator<PgFrame>;

  private constructor(readonly socket: Socket) {
    const received = this.received;
    async function* recorded(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        received.push(chunk);
        yield chunk;
      }
    }
    this.frames = readPgFrames(recorded(socket), new PgMessageReader({ from: 'server' }));
  }

  static async open(): Promise<PgTestConnection> {
    const socket = connect(PG_PORT, PG_HOST);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new PgTestConnection(socket);
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  async next(): Promise<BackendMessage> {
    const result = await this.frames.next();
    assert.ok(!result.done, 'the server closed the connection');
    assert.ok(result.value.kind === 'typed');
    return decodeBackendMessage(result.value);
  }

  /** Messages up to and including ReadyForQuery. */
  async untilReady(): Promise<BackendMessage[]> {
    const messages: BackendMessage[] = [];
    for (;;) {
      const message = await this.next();
      messages.push(message);
      if (message.name === 'ReadyForQuery') return messages;
    }
  }

  async closed(): Promise<void> {
    const result = await this.frames.next();
    assert.ok(result.done, 'expected the server to close the connection');
  }
}

const text = (value: Buffer | null | undefined) => (value == null ? value : value.toString('utf8'));

describe('against the local PostgreSQL', () => {
  it('starts up, runs simple and extended queries, is cancelled and terminates', async () => {
    const pg = await PgTestConnection.open();
    try {
      pg.send(encodeStartupMessage({ user: 'postgres', database: 'test', application_name: 'gatehouse-pg-wire-test' }));
      const startup = await pg.untilReady();
      const auth = new PgClientAuthenticator({ user: 'postgres', password: 'unused under trust' });
      assert.equal(await auth.respond(startup[0] as AuthenticationRequest), null);
      assert.equal(auth.method, 'trust');
      const parameters = new Map(startup.flatMap((message) => (message.name === 'ParameterStatus' ? [[message.parameter, message.value] as const] : [])));
      assert.equal(parameters.get('client_encoding'), 'UTF8');
      assert.match(parameters.get('server_version') ?? '', /^\d+/);
      const keyData = startup.find((message) => message.name === 'BackendKeyData');
      assert.ok(keyData?.name === 'BackendKeyData');
      assert.equal(keyData.secretKey.length, 4);
      assert.deepEqual(startup.at(-1), { name: 'ReadyForQuery', status: 'I' });

      // Simple query: RowDescription, DataRows (with NULL), CommandComplete.
      pg.send(encodeQuery("select n, case when n = 2 then null else 'row ' || n end as label from generate_series(1, 3) n"));
      const simple = await pg.untilReady();
      assert.deepEqual(simple.map((message) => message.name), ['RowDescription', 'DataRow', 'DataRow', 'DataRow', 'CommandComplete', 'ReadyForQuery']);
      const description = simple[0];
      assert.ok(description?.name === 'RowDescription');
      assert.deepEqual(description.fields.map((field) => [field.name, field.typeOid, field.format]), [['n', 23, 0], ['label', 25, 0]]);
      assert.deepEqual(simple.slice(1, 4).map((row) => (row.name === 'DataRow' ? row.values.map(text) : [])), [['1', 'row 1'], ['2', null], ['3', 'row 3']]);
      assert.deepEqual(simple[4], { name: 'CommandComplete', tag: 'SELECT 3' });

      // Extended protocol with parameters (text, NULL, binary int4), Describe passed as an opaque message.
      const parse = encodeParse('', 'select $1::int + 1 as answer, $2::text as greeting, $3::text as nothing, $4::int4 as bin', [23, 25, 25, 23]);
      const bind = encodeBind({ parameterFormats: [0, 0, 0, 1], parameters: ['41', 'héllo', null, Buffer.from([0, 0, 1, 0])] });
      pg.send(parse, bind, encodeOpaque('D', Buffer.from('P\0')), encodeExecute(), encodeSync());
      const extended = await pg.untilReady();
      assert.deepEqual(
        extended.map((message) => (message.name === 'Opaque' ? message.type : message.name)),
        ['1', '2', 'RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery'],
      );
      const row = extended[3];
      assert.ok(row?.name === 'DataRow');
      assert.deepEqual(row.values.map(text), ['42', 'héllo', null, '256']);
      assert.deepEqual(extended[4], { name: 'CommandComplete', tag: 'SELECT 1' });
      assert.deepEqual(captureRawQuery(bind), { kind: 'bind', portal: '', statement: '', parameters: ['41', 'héllo', null, { base64: 'AAABAA==' }] });

      // A server error is decoded with its fields and the session stays usable.
      pg.send(encodeQuery('select * from no_such_table'));
      const failed = await pg.untilReady();
      const error = failed[0];
      assert.ok(error?.name === 'ErrorResponse');
      assert.equal(error.fields.code, '42P01');
      assert.equal(error.fields.severityNonLocalized, 'ERROR');
      assert.match(error.fields.message ?? '', /no_such_table/);

      // Cancel from a second socket while pg_sleep runs. A cancel that arrives before the
      // query starts is ignored by the server, so it is repeated until the query ends.
      const started = Date.now();
      pg.send(encodeQuery('select pg_sleep(10)'));
      const answer = pg.untilReady();
      let cancelled = false;
      void answer.finally(() => (cancelled = true));
      while (!cancelled && Date.now() - started < 8000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (cancelled) break;
        const canceller = await PgTestConnection.open();
        canceller.send(encodeCancelRequest(keyData.processId, keyData.secretKey));
        await canceller.closed();
      }
      const sleep = await answer;
      assert.ok(Date.now() - started < 8000, 'the cancel ended the query early');
      const cancelError = sleep.find((message) => message.name === 'ErrorResponse');
      assert.ok(cancelError?.name === 'ErrorResponse');
      assert.equal(cancelError.fields.code, '57014');
      assert.match(cancelError.fields.message ?? '', /canceling statement due to user request/);

      pg.send(encodeTerminate());
      await pg.closed();

      // The recorded server stream, split anywhere, decodes to the same messages.
      const whole = Buffer.concat(pg.received);
      const expected = framesOf('server', [whole]).map((frame) => frame.raw);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
          assert.deepEqual(framesOf('server', splitAt(whole, cuts)).map((frame) => frame.raw), expected);
        }),
        { numRuns: 200 },
      );
    } finally {
      pg.socket.destroy();
    }
  });
});
