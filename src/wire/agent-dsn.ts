/**
 * Agent tokens in the reference's DSN form: `grpc://<name>:<secret>@<host>:<port>?mode=standard`
 * (`grpcs://` for TLS). The whole DSN is the agent's credential; the gateway keeps only a hash
 * of the secret part.
 */
export interface AgentDsn {
  name: string;
  secret: string;
  host: string;
  port: number;
  tls: boolean;
  mode: string;
}

export class InvalidDsnError extends Error {}

export function parseAgentDsn(token: string): AgentDsn {
  let url: URL;
  try {
    url = new URL(token);
  } catch {
    throw new InvalidDsnError('agent key is not a DSN of the form grpc://<name>:<secret>@<host>:<port>?mode=standard');
  }
  if (url.protocol !== 'grpc:' && url.protocol !== 'grpcs:') {
    throw new InvalidDsnError('agent key must use the grpc:// or grpcs:// scheme');
  }
  const name = decodeURIComponent(url.username);
  const secret = decodeURIComponent(url.password);
  if (!name || !secret || !url.hostname) {
    throw new InvalidDsnError('agent key must carry a name, a secret and a host');
  }
  const tls = url.protocol === 'grpcs:';
  return {
    name,
    secret,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : tls ? 443 : 8010,
    tls,
    mode: url.searchParams.get('mode') || 'standard',
  };
}

export function formatAgentDsn(baseUrl: string, name: string, secret: string, mode: string): string {
  const base = new URL(baseUrl);
  return `${base.protocol}//${encodeURIComponent(name)}:${encodeURIComponent(secret)}@${base.host}?mode=${encodeURIComponent(mode)}`;
}
