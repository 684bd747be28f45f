import path from 'node:path';

/**
 * Every environment variable Gatehouse reads is read here, once, and validated at start-up.
 * A bad value stops the process with a message naming the variable; nothing else reads process.env.
 */

export class ConfigError extends Error {}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface GatewayConfig {
  postgresUri: string | undefined;
  dataDir: string;
  http: ListenAddress;
  grpc: ListenAddress;
  /** Native PostgreSQL access (GATEHOUSE_PG_ADDR); undefined when turned off. */
  postgresProxy: PostgresProxyConfig | undefined;
  /** Public base URL used in links (download URLs). */
  apiUrl: string;
  /** Public gRPC URL written into agent tokens. */
  grpcUrl: string;
  execWaitSeconds: number;
  agentConnectWaitSeconds: number;
  /** Admin API key accepted for automation, when set. */
  apiKey: string | undefined;
  /** How people log in: local email and password, or an OIDC identity provider. */
  authMethod: AuthMethod;
  /** The identity provider, when authMethod is oidc. */
  oidc: OidcConfig | undefined;
  /** 32-byte key for secrets at rest, when given; otherwise one is generated into the data dir. */
  secretKey: Buffer | undefined;
  execOutputMaxBytes: number;
  sessionEventsMaxBytes: number;
  requestBodyMaxBytes: number;
  /** Timeout of one git fetch of a runbook repository. */
  runbooksFetchTimeoutSeconds: number;
  /** How long a repository's branch tip is reused before it is fetched again (0: every request). */
  runbooksTipCacheSeconds: number;
  /** The wait before a failed webhook delivery's first retry; each further retry doubles it. */
  webhookRetryBaseMs: number;
  /**
   * What a masking failure does to the text it was scanning: `strict` withholds it (default),
   * `best-effort` lets it through. DLP_MODE, the reference's name.
   */
  maskingMode: 'strict' | 'best-effort';
  logLevel: string;
}

export interface PostgresProxyConfig {
  address: ListenAddress;
  /** PEM files: with them the port speaks TLS and requires it. */
  tls: { certFile: string; keyFile: string } | undefined;
}

export interface OidcConfig {
  /** The provider's issuer URL, exactly as its tokens name it (a trailing slash matters). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim whose value replaces a user's groups at each login. */
  groupsClaim: string;
  /** Scopes every login asks for: openid, profile, email, then IDP_SCOPES. */
  scopes: string[];
  /** The audience of the access tokens the API accepts (IDP_AUDIENCE); the client id when unset. */
  audience: string | undefined;
}

export interface AgentConfig {
  /** The DSN token from POST /api/agents. */
  agentKey: string;
  /** Overrides host and port of the DSN. */
  grpcUrl: string | undefined;
  logLevel: string;
}

/** What the CLI's client commands (`gatehouse connect`) need to reach a gateway. */
export interface ClientConfig {
  /** The gateway's HTTP API (GATEHOUSE_API_URL). */
  apiUrl: string;
  /** The user's API key or login token (GATEHOUSE_TOKEN). */
  token: string;
}

type Env = Record<string, string | undefined>;

export const AUTH_METHODS = ['local', 'oidc'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

const MiB = 1024 * 1024;

export const DEFAULTS = {
  httpAddr: '127.0.0.1:8009',
  grpcAddr: '127.0.0.1:8010',
  pgAddr: '127.0.0.1:15432',
  dataDir: './.gatehouse',
  execWaitSeconds: 50,
  agentConnectWaitSeconds: 3,
  execOutputMaxBytes: 16 * MiB,
  sessionEventsMaxBytes: 1024 * MiB,
  requestBodyMaxBytes: 32 * MiB,
  runbooksFetchTimeoutSeconds: 30,
  runbooksTipCacheSeconds: 10,
  webhookRetryBaseMs: 1000,
  idpGroupsClaim: 'https://app.hoop.dev/groups',
} as const;

function readAddress(env: Env, name: string, fallback: string): ListenAddress {
  const raw = env[name] || fallback;
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(raw);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError(`${name} must look like HOST:PORT (got "${raw}")`);
  }
  const host = match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port };
}

function readPositiveNumber(env: Env, name: string, fallback: number, { integer = true, zero = false } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero) || (integer && !Number.isInteger(value))) {
    const kind = `${zero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}`;
    throw new ConfigError(`${name} must be a ${kind} (got "${raw}")`);
  }
  return value;
}

function readUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use one of ${protocols.join(', ')} (got "${url.protocol}")`);
  }
  return raw.replace(/\/+$/, '');
}

function readSecretKey(env: Env): Buffer | undefined {
  const raw = env.GATEHOUSE_SECRET_KEY;
  if (!raw) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('GATEHOUSE_SECRET_KEY must be 32 bytes, as 64 hex characters or base64');
  }
  return key;
}

/** A host to reach a listener on from this machine: wildcards become loopback, IPv6 gets brackets. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function urlHost(address: ListenAddress): string {
  return `${reachableHost(address.host)}:${address.port}`;
}

function readMaskingMode(env: Env): GatewayConfig['maskingMode'] {
  const mode = env.DLP_MODE || 'strict';
  if (mode !== 'strict' && mode !== 'best-effort') throw new ConfigError(`DLP_MODE must be strict or best-effort (got "${mode}")`);
  return mode;
}

function readLogLevel(env: Env): string {
  const level = env.GATEHOUSE_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError(`GATEHOUSE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  return level;
}

/** AUTH_METHOD, or oidc when it is unset and an identity provider is configured. */
function readAuthMethod(env: Env): AuthMethod {
  const method = env.AUTH_METHOD || (env.IDP_ISSUER ? 'oidc' : 'local');
  if (!(AUTH_METHODS as readonly string[]).includes(method)) {
    throw new ConfigError(`AUTH_METHOD must be one of ${AUTH_METHODS.join(', ')} (got "${method}")`);
  }
  return method as AuthMethod;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The issuer as given: https, or http on a loopback address only (a local provider, tests). */
function readIssuer(env: Env): string {
  const raw = env.IDP_ISSUER!;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('IDP_ISSUER is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError(`IDP_ISSUER must be an https URL (http only on a loopback address; got "${raw}")`);
  }
  return raw;
}

function readOidc(env: Env, authMethod: AuthMethod): OidcConfig | undefined {
  if (authMethod !== 'oidc') return undefined;
  const missing = ['IDP_ISSUER', 'IDP_CLIENT_ID', 'IDP_CLIENT_SECRET'].filter((name) => !env[name]);
  if (missing.length) {
    throw new ConfigError(`login through an identity provider (AUTH_METHOD=oidc) needs ${missing.join(', ')}`);
  }
  const extraScopes = (env.IDP_SCOPES ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    issuer: readIssuer(env),
    clientId: env.IDP_CLIENT_ID!,
    clientSecret: env.IDP_CLIENT_SECRET!,
    groupsClaim: env.IDP_GROUPS_CLAIM || DEFAULTS.idpGroupsClaim,
    scopes: [...new Set(['openid', 'profile', 'email', ...extraScopes])],
    audience: env.IDP_AUDIENCE || undefined,
  };
}

function readPostgresProxy(env: Env): PostgresProxyConfig | undefined {
  if (env.GATEHOUSE_PG_ADDR === 'off') return undefined;
  const certFile = env.GATEHOUSE_PG_TLS_CERT || undefined;
  const keyFile = env.GATEHOUSE_PG_TLS_KEY || undefined;
  if (!certFile !== !keyFile) throw new ConfigError('GATEHOUSE_PG_TLS_CERT and GATEHOUSE_PG_TLS_KEY go together: set both (PEM files) or neither');
  return {
    address: readAddress(env, 'GATEHOUSE_PG_ADDR', DEFAULTS.pgAddr),
    tls: certFile && keyFile ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } : undefined,
  };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const http = readAddress(env, 'GATEHOUSE_HTTP_ADDR', DEFAULTS.httpAddr);
  const grpc = readAddress(env, 'GATEHOUSE_GRPC_ADDR', DEFAULTS.grpcAddr);
  const postgresUri = readUrl(env, 'POSTGRES_DB_URI', ['postgres:', 'postgresql:']);
  const authMethod = readAuthMethod(env);
  return {
    postgresUri: postgresUri ? env.POSTGRES_DB_URI : undefined,
    dataDir: path.resolve(env.GATEHOUSE_DATA_DIR || DEFAULTS.dataDir),
    http,
    grpc,
    postgresProxy: readPostgresProxy(env),
    apiUrl: readUrl(env, 'API_URL', ['http:', 'https:']) ?? `http://${urlHost(http)}`,
    grpcUrl: readUrl(env, 'GATEHOUSE_GRPC_PUBLIC_URL', ['grpc:', 'grpcs:']) ?? `grpc://${urlHost(grpc)}`,
    execWaitSeconds: readPositiveNumber(env, 'GATEHOUSE_EXEC_WAIT_SECONDS', DEFAULTS.execWaitSeconds, { integer: false }),
    agentConnectWaitSeconds: readPositiveNumber(
      env,
      'GATEHOUSE_AGENT_CONNECT_WAIT_SECONDS',
      DEFAULTS.agentConnectWaitSeconds,
      { integer: false },
    ),
    apiKey: env.API_KEY || undefined,
    authMethod,
    oidc: readOidc(env, authMethod),
    secretKey: readSecretKey(env),
    execOutputMaxBytes: readPositiveNumber(env, 'GATEHOUSE_EXEC_OUTPUT_MAX_BYTES', DEFAULTS.execOutputMaxBytes),
    sessionEventsMaxBytes: readPositiveNumber(env, 'GATEHOUSE_SESSION_EVENTS_MAX_BYTES', DEFAULTS.sessionEventsMaxBytes),
    requestBodyMaxBytes: readPositiveNumber(env, 'GATEHOUSE_REQUEST_BODY_MAX_BYTES', DEFAULTS.requestBodyMaxBytes),
    runbooksFetchTimeoutSeconds: readPositiveNumber(env, 'GATEHOUSE_RUNBOOKS_FETCH_TIMEOUT_SECONDS', DEFAULTS.runbooksFetchTimeoutSeconds, {
      integer: false,
    }),
    runbooksTipCacheSeconds: readPositiveNumber(env, 'GATEHOUSE_RUNBOOKS_CACHE_SECONDS', DEFAULTS.runbooksTipCacheSeconds, {
      integer: false,
      zero: true,
    }),
    webhookRetryBaseMs: readPositiveNumber(env, 'GATEHOUSE_WEBHOOK_RETRY_BASE_MS', DEFAULTS.webhookRetryBaseMs),
    maskingMode: readMaskingMode(env),
    logLevel: readLogLevel(env),
  };
}

export function loadAgentConfig(env: Env = process.env): AgentConfig {
  const agentKey = env.GATEHOUSE_AGENT_KEY;
  if (!agentKey) {
    throw new ConfigError('GATEHOUSE_AGENT_KEY is required: the token returned by POST /api/agents');
  }
  return {
    agentKey,
    grpcUrl: readUrl(env, 'GATEHOUSE_GRPC_URL', ['grpc:', 'grpcs:']),
    logLevel: readLogLevel(env),
  };
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const token = env.GATEHOUSE_TOKEN;
  if (!token) throw new ConfigError('GATEHOUSE_TOKEN is required: your API key or login token');
  return { apiUrl: (readUrl(env, 'GATEHOUSE_API_URL', ['http:', 'https:']) ?? `http://${DEFAULTS.httpAddr}`).replace(/\/+$/, ''), token };
}
