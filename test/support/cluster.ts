import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * Starts the real binaries for end-to-end tests: `gatehouse gateway` and `gatehouse agent` as
 * separate processes over loopback, on embedded PGlite or on a fresh PostgreSQL database.
 */

export type StoreKind = 'pglite' | 'postgres';

export const STORES: StoreKind[] = (process.env.GATEHOUSE_TEST_STORES ?? 'pglite,postgres').split(',') as StoreKind[];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'gatehouse');
const POSTGRES_ADMIN_URI = process.env.GATEHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function createDatabase(): Promise<{ uri: string; drop(): Promise<void> }> {
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URI });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const uri = new URL(POSTGRES_ADMIN_URI);
  uri.pathname = `/${name}`;
  return {
    uri: uri.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URI });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface ProcessHandle {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
}

export function spawnGatehouse(command: string | string[], env: Record<string, string>): ProcessHandle {
  const child = spawn(process.execPath, [BIN, ...[command].flat()], {
    // An ephemeral PostgreSQL port unless the test chooses one: tests must not need 15432 free.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_LOG_LEVEL: 'info', GATEHOUSE_PG_ADDR: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Connection secrets travel base64-encoded. */
export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64');

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface Cluster {
  store: StoreKind;
  url: string;
  grpcAddr: string;
  /** The gateway's native PostgreSQL port. */
  pgPort: number;
  adminKey: string;
  dataDir: string;
  /** The cluster's own PostgreSQL database (postgres store only). */
  postgresUri?: string;
  gateway: ProcessHandle;
  agent: ProcessHandle;
  agentToken: string;
  /** The id of the cluster's agent, `test-agent`. */
  agentId: string;
  api<T = any>(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  exec(body: Record<string, unknown>): Promise<ApiResponse>;
  /** Creates a connection on the cluster's agent (`custom`, running `bash`, unless `fields` say otherwise); throws unless 201. */
  createConnection(name: string, fields?: Record<string, unknown>): Promise<any>;
  startGateway(): Promise<void>;
  stopGateway(signal?: NodeJS.Signals): Promise<void>;
  startAgent(): Promise<void>;
  stopAgent(signal?: NodeJS.Signals): Promise<void>;
  waitAgentStatus(status: 'CONNECTED' | 'DISCONNECTED'): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(store: StoreKind, env: Record<string, string> = {}): Promise<Cluster> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-test-'));
  const database = store === 'postgres' ? await createDatabase() : undefined;
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const pgPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const grpcAddr = `127.0.0.1:${grpcPort}`;
  const gatewayEnv: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    GATEHOUSE_GRPC_ADDR: grpcAddr,
    GATEHOUSE_PG_ADDR: `127.0.0.1:${pgPort}`,
    ...(database ? { POSTGRES_DB_URI: database.uri } : {}),
    ...env,
  };

  const cluster: Cluster = {
    store,
    url,
    grpcAddr,
    pgPort,
    adminKey: '',
    dataDir,
    postgresUri: database?.uri,
    gateway: undefined as unknown as ProcessHandle,
    agent: undefined as unknown as ProcessHandle,
    agentToken: '',
    agentId: '',

    async api(method, route, body, headers = {}) {
      const response = await fetch(url + route, {
        method,
        headers: {
          ...(cluster.adminKey ? { authorization: `Bearer ${cluster.adminKey}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed as any, text, headers: response.headers };
    },

    exec(body) {
      return cluster.api('POST', '/api/sessions', { connection: 'bash', ...body });
    },

    async createConnection(name, fields = {}) {
      const created = await cluster.api('POST', '/api/connections', { name, type: 'custom', command: ['bash'], agent_id: cluster.agentId, ...fields });
      if (created.status !== 201) throw new Error(`creating the connection ${name} failed: ${created.status} ${created.text}`);
      return created.body;
    },

    async startGateway() {
      cluster.gateway = spawnGatehouse('gateway', gatewayEnv);
      await waitFor('the gateway to answer', async () => {
        if (cluster.gateway.child.exitCode !== null) throw new Error(`gateway exited:\n${cluster.gateway.output()}`);
        const response = await fetch(`${url}/api/healthz`).catch(() => undefined);
        return response?.ok ? true : undefined;
      });
    },

    async stopGateway(signal = 'SIGTERM') {
      cluster.gateway.child.kill(signal);
      await cluster.gateway.exited;
    },

    async startAgent() {
      cluster.agent = spawnGatehouse('agent', { GATEHOUSE_AGENT_KEY: cluster.agentToken });
      await cluster.waitAgentStatus('CONNECTED');
    },

    async stopAgent(signal = 'SIGTERM') {
      cluster.agent.child.kill(signal);
      await cluster.agent.exited;
    },

    async waitAgentStatus(status) {
      await waitFor(`agent ${status}`, async () => {
        const response = await cluster.api('GET', '/api/agents/test-agent');
        return response.body?.status === status ? true : undefined;
      });
    },

    async stop() {
      for (const proc of [cluster.agent, cluster.gateway]) {
        if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
          proc.child.kill('SIGKILL');
          await proc.exited;
        }
      }
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    await cluster.startGateway();
    cluster.adminKey = (await readFile(path.join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const created = await cluster.api('POST', '/api/agents', { name: 'test-agent' });
    if (created.status !== 201) throw new Error(`creating the agent failed: ${created.text}`);
    cluster.agentToken = created.body.token;
    cluster.agentId = (await cluster.api('GET', '/api/agents/test-agent')).body.id;
    await cluster.createConnection('bash');
    await cluster.startAgent();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
