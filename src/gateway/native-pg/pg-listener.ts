import net from 'node:net';
import type { ListenAddress } from '../../config.js';

/** The gateway's PostgreSQL port: hands every accepted connection to `serve`. */
export async function listenPostgres(address: ListenAddress, serve: (socket: net.Socket) => Promise<void>) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    void serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    /** Stops accepting; the connections still open are cut (their sessions end first, on shutdown). */
    close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
