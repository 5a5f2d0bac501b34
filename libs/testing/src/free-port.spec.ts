import { createServer, type Server } from 'node:net';
import { ephemeralRangeStart, freePort, portSlice } from './free-port';

function occupy(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePort', () => {
  it('hands out distinct ports of its worker slice, all below the ephemeral range', async () => {
    const { from, to } = portSlice();
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(from);
      expect(port).toBeLessThanOrEqual(to);
      expect(port).toBeLessThan(ephemeralRangeStart());
    }
  });

  it('skips ports something else listens on', async () => {
    const { from } = portSlice();
    const last = await freePort();
    const next = [1, 2, 3].map((step) => from + ((last - from + step) % 1_000));
    const servers = await Promise.all(next.map(occupy));
    try {
      const port = await freePort();
      for (const [i, server] of servers.entries()) if (server) expect(port).not.toBe(next[i]);
      expect(port).not.toBe(last);
      const probe = await occupy(port);
      expect(probe).toBeDefined();
      probe?.close();
    } finally {
      for (const server of servers) server?.close();
    }
  });

  it('gives each Jest worker its own slice', () => {
    const slices = [0, 1, 2, 3].map((worker) => portSlice(worker));
    for (const [i, a] of slices.entries()) {
      expect(a.to).toBeLessThan(ephemeralRangeStart());
      for (const b of slices.slice(i + 1)) expect(a.to < b.from || b.to < a.from).toBe(true);
    }
  });
});
