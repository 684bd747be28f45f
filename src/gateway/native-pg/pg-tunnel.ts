import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { GatehouseError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { PG_TUNNEL_PROTOCOL } from '../../wire/tunnel.js';
import type { AuthService } from '../auth/auth-service.js';
import type { TunnelGrant } from './native-pg-service.js';

const TUNNEL_PATH = /^\/api\/connections\/([^/?#]+)\/tunnel(?:\?.*)?$/;

function reply(socket: Socket, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * `GET /api/connections/{name}/tunnel` with `Upgrade: gatehouse-pg`: the caller's API key or
 * login token authenticates the HTTP request, after which the socket carries one PostgreSQL
 * client connection to that connection (the local client's own password is not asked for).
 * It reaches the same place as the PostgreSQL port, for users who can reach only the HTTP API.
 */
export function attachPgTunnel(
  server: Server,
  deps: { auth: Pick<AuthService, 'authenticate'>; serve(socket: Socket, grant: TunnelGrant): Promise<void>; log: Logger },
): void {
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const match = TUNNEL_PATH.exec(request.url ?? '');
    if (!match) return reply(socket, 404, 'not found');
    if (String(request.headers.upgrade ?? '').toLowerCase() !== PG_TUNNEL_PROTOCOL) {
      return reply(socket, 400, `upgrade to ${PG_TUNNEL_PROTOCOL} expected`);
    }
    void deps.auth.authenticate(request.headers).then(
      (identity) => {
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${PG_TUNNEL_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
        socket.setNoDelay(true);
        socket.pause();
        if (head.length) socket.unshift(head);
        return deps.serve(socket, { identity, connectionName: decodeURIComponent(match[1]!) });
      },
      (error: Error) => {
        if (error instanceof GatehouseError) return reply(socket, error.status, error.message);
        deps.log.error({ err: error }, 'tunnel authentication failed');
        reply(socket, 500, 'internal server error');
      },
    );
  });
}
