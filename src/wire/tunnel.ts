/**
 * The PostgreSQL tunnel of `gatehouse connect` through the gateway's HTTP API: an HTTP/1.1
 * upgrade, after which the connection carries one PostgreSQL client session.
 */
export const PG_TUNNEL_PROTOCOL = 'gatehouse-pg';

export function pgTunnelPath(connection: string): string {
  return `/api/connections/${encodeURIComponent(connection)}/tunnel`;
}
