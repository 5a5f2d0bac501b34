import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports for child processes to listen on, handed out so that nothing else can take them between the check
 * and the child's own `listen`.
 *
 * The obvious way (listen on port 0, close, pass the number on) hands out a port from the kernel's ephemeral
 * range, the range every outgoing connection on the machine draws its local port from. Under load, a
 * PostgreSQL or AMQP connection opened in that gap takes the port and the child dies of EADDRINUSE: CI lost an
 * end-to-end suite that way. The ports here come from below the ephemeral range, which outgoing connections
 * never use, from a slice of their own per Jest worker (two workers never pick the same port), and each is
 * checked free by binding it. A port is handed out once per process, so a stack restarting an app on the port
 * it had is never given that port for another app.
 */

const SLICE = 1_000;
const LOWEST = 10_000;
const handedOut = new Set<number>();
let cursor: number | undefined;

/** The lowest port of the kernel's ephemeral range (Linux's default when it cannot be read). */
export function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > LOWEST + SLICE ? value : 32_768;
  } catch {
    return 32_768;
  }
}

/** The ports this process may hand out: its Jest worker's slice below the ephemeral range. */
export function portSlice(workerId = Number(process.env.JEST_WORKER_ID ?? 0)): { from: number; to: number } {
  const slices = Math.floor((ephemeralRangeStart() - LOWEST) / SLICE);
  const index = (Number.isInteger(workerId) && workerId > 0 ? workerId : 0) % slices;
  const from = LOWEST + index * SLICE;
  return { from, to: from + SLICE - 1 };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A free loopback port outside the ephemeral range, never handed out before by this process. */
export async function freePort(): Promise<number> {
  const { from, to } = portSlice();
  // Start at a random place in the slice, so that a demo and a test run beside each other rarely meet.
  cursor ??= from + Math.floor(Math.random() * SLICE);
  for (let tried = 0; tried < SLICE; tried++) {
    const port = from + ((cursor - from + tried) % SLICE);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    cursor = port + 1;
    return port;
  }
  throw new Error(`no free port left in ${from}-${to} (ports below the ephemeral range for this worker)`);
}
