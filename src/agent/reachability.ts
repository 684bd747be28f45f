import net from 'node:net';

/** How long the agent waits for a database server to accept a connection. */
export const CONNECT_TIMEOUT_MS = 5000;

/** The reference's wording for a target that cannot be reached; users and scripts match on it. */
export function connectFailure(host: string, port: number, reason: string): string {
  return `failed connecting to remote host=${host}, port=${port}, reason=${reason}`;
}

/** Dials `host:port` once; the reference's message when it cannot be reached, else undefined. */
export function checkReachable(address: string): Promise<string | undefined> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    const fail = (reason: string) => {
      socket.destroy();
      resolve(connectFailure(host, port, reason));
    };
    const socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => fail(`no answer within ${CONNECT_TIMEOUT_MS / 1000}s`));
    socket.once('error', (error) => fail(error.message));
  });
}
