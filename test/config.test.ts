import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadClientConfig, loadGatewayConfig } from '../src/config.js';

/** The settings of native PostgreSQL access and of `gatehouse connect`, as read at start-up. */

describe('config: native PostgreSQL access', () => {
  it('listens on 127.0.0.1:15432 by default, elsewhere when told, and not at all with "off"', () => {
    assert.deepEqual(loadGatewayConfig({}).postgresProxy, { address: { host: '127.0.0.1', port: 15432 }, tls: undefined });
    assert.deepEqual(loadGatewayConfig({ GATEHOUSE_PG_ADDR: ':5432' }).postgresProxy?.address, { host: '0.0.0.0', port: 5432 });
    assert.equal(loadGatewayConfig({ GATEHOUSE_PG_ADDR: 'off' }).postgresProxy, undefined);
    assert.throws(() => loadGatewayConfig({ GATEHOUSE_PG_ADDR: 'localhost' }), /GATEHOUSE_PG_ADDR must look like HOST:PORT/);
  });

  it('takes a TLS certificate and key together, never one alone', () => {
    const tls = loadGatewayConfig({ GATEHOUSE_PG_TLS_CERT: '/etc/gh/cert.pem', GATEHOUSE_PG_TLS_KEY: '/etc/gh/key.pem' }).postgresProxy?.tls;
    assert.deepEqual(tls, { certFile: '/etc/gh/cert.pem', keyFile: '/etc/gh/key.pem' });
    assert.throws(() => loadGatewayConfig({ GATEHOUSE_PG_TLS_CERT: '/etc/gh/cert.pem' }), (error: Error) => error instanceof ConfigError && /go together/.test(error.message));
  });
});

describe('config: gatehouse connect', () => {
  it('needs a token, and reaches the local gateway unless told otherwise', () => {
    assert.throws(() => loadClientConfig({}), /GATEHOUSE_TOKEN is required/);
    assert.deepEqual(loadClientConfig({ GATEHOUSE_TOKEN: 'k' }), { apiUrl: 'http://127.0.0.1:8009', token: 'k' });
    assert.equal(loadClientConfig({ GATEHOUSE_TOKEN: 'k', GATEHOUSE_API_URL: 'https://gw.example.com/' }).apiUrl, 'https://gw.example.com');
    assert.throws(() => loadClientConfig({ GATEHOUSE_TOKEN: 'k', GATEHOUSE_API_URL: 'ftp://x' }), /GATEHOUSE_API_URL/);
  });
});
