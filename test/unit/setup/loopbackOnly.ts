import net from 'node:net';

/*
 * Unit tests talk to fakes, or to loopback: the fixtures' 10.x addresses are
 * never to be contacted. A connection anywhere else fails at once, with an
 * error naming the address, before a packet leaves (a real driver pointed at
 * a fixture used to wait out its connect timeout, its SYNs sent out).
 */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./.test(host);
}

type ConnectTarget = { host?: string; port?: number; path?: string };

function targetOf(args: unknown[]): ConnectTarget {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]; // net.connect passes its normalized [options, cb]
  if (typeof first === 'object' && first !== null) return first as ConnectTarget;
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
}

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  const t = targetOf(args);
  const host = t.host ?? 'localhost';
  if (t.path === undefined && !isLoopback(host)) {
    const err = Object.assign(new Error(`unit tests never connect outside loopback: ${host}:${t.port}`), { code: 'ENETUNREACH' });
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return (original as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
