import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ClientConfig } from '../config.js';
import { encodeErrorResponse } from '../wire/pg/index.js';
import { PG_TUNNEL_PROTOCOL, pgTunnelPath } from '../wire/tunnel.js';

const DEFAULT_PORT = 5433;

/** `gatehouse connect <connection> [--port N]`: its arguments, or a usage message. */
export function parseConnectArgs(args: string[]): { connection: string; port: number } {
  let connection: string | undefined;
  let port = DEFAULT_PORT;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--port' || arg === '-p') {
      port = Number(args[++i]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a TCP port number, not "${args[i] ?? ''}"`);
    } else if (!arg.startsWith('-') && connection === undefined) {
      connection = arg;
    } else {
      throw new Error(`unexpected argument "${arg}"\nusage: gatehouse connect <connection> [--port ${DEFAULT_PORT}]`);
    }
  }
  if (!connection) throw new Error(`usage: gatehouse connect <connection> [--port ${DEFAULT_PORT}]`);
  return { connection, port };
}

async function checkConnection(config: ClientConfig, name: string): Promise<void> {
  const response = await fetch(`${config.apiUrl}/api/connections/${encodeURIComponent(name)}`, {
    headers: { authorization: `Bearer ${config.token}` },
  }).catch((error: Error) => {
    throw new Error(`cannot reach the gateway at ${config.apiUrl}: ${error.message}`);
  });
  const body = (await response.json().catch(() => ({}))) as { message?: string; type?: string; subtype?: string };
  if (!response.ok) throw new Error(`connection ${name}: ${body.message ?? response.statusText} (${response.status})`);
  if (body.type !== 'database' || body.subtype !== 'postgres') throw new Error(`connection ${name} is not a postgres database connection`);
}

/** One local client: its bytes go through an upgraded HTTP connection to the gateway. */
function tunnel(config: ClientConfig, connection: string, local: net.Socket): void {
  local.setNoDelay(true);
  local.on('error', () => {});
  local.pause();
  const url = new URL(config.apiUrl + pgTunnelPath(connection));
  const request = (url.protocol === 'https:' ? https : http).request(url, {
    headers: { connection: 'Upgrade', upgrade: PG_TUNNEL_PROTOCOL, authorization: `Bearer ${config.token}`, 'user-agent': 'gatehouse-cli' },
  });
  const fail = (message: string) => local.end(encodeErrorResponse({ severity: 'FATAL', code: '08001', message: `gatehouse: ${message}` }));
  request.on('upgrade', (_response, remote: net.Socket, head: Buffer) => {
    remote.setNoDelay(true);
    remote.on('error', () => local.destroy());
    local.on('close', () => remote.destroy());
    remote.on('close', () => local.destroy());
    if (head.length) local.write(head);
    remote.pipe(local);
    local.pipe(remote);
    local.resume();
  });
  request.on('response', (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (text: string) => (body += text));
    response.on('end', () => {
      let message = `the gateway answered ${response.statusCode}`;
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the status
      }
      fail(message);
    });
  });
  request.on('error', (error) => fail(`cannot reach the gateway: ${error.message}`));
  request.end();
}

/** Listens on 127.0.0.1 until interrupted; every local connection is tunnelled to the gateway as the configured user. */
export async function runConnect(args: string[], config: ClientConfig): Promise<void> {
  const { connection, port } = parseConnectArgs(args);
  await checkConnection(config, connection);
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (local) => tunnel(config, connection, local));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: choose another with --port`) : error),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  // Anyone who can reach this loopback port uses the session of the token above, as with any
  // local proxy of a logged-in CLI: the local password is not checked.
  console.log(`connection ${connection} ready: postgres://gatehouse@127.0.0.1:${port}/${encodeURIComponent(connection)} (any user and password)`);
  console.log(`  psql "host=127.0.0.1 port=${port} user=gatehouse dbname=${connection}"`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
