/**
 * A TCP relay between a client and its server, whose connections a test can cut: how the contract suite drops
 * the connections of a store (EventStoreDB's gRPC) whose server offers no way to kill a client's sessions.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** Port on 127.0.0.1 the proxy listens on. */
  port: number;
  /** Resets every relayed connection (both sides) and resolves with how many there were. */
  dropConnections(): Promise<number>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((downstream) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [downstream, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    dropConnections: async () => {
      const dropped = [...pairs];
      pairs.clear();
      for (const [downstream, upstream] of dropped) {
        downstream.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      return dropped.length;
    },
    close: async () => {
      for (const [downstream, upstream] of pairs) {
        downstream.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
