import { createConnection, type Socket } from 'node:net';

/**
 * Mass insertion over a raw connection: commands are encoded as RESP and
 * streamed, replies are counted as they come back (as `redis-cli --pipe`
 * does). A JavaScript client's per-command overhead is what limits pipelined
 * writes here (ioredis: about 60 k commands/s on this machine); this does
 * not pay it. Only for commands whose replies are simple (+OK, :n, -ERR).
 */
export class RedisMassInsert {
  private readonly socket: Socket;
  private sent = 0;
  private replied = 0;
  private carry = '';
  private readonly errors: string[] = [];
  /** The sum of the integer replies (:n): e.g. how many script calls answered 1. */
  private integers = 0;
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;

  private constructor(socket: Socket, private readonly maxInFlight: number) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('Redis closed the connection during mass insertion')));
  }

  /** Opens the connection; with a password, AUTH goes first (its +OK counts as one reply). */
  static connect(host: string, port: number, password?: string, maxInFlight = 50_000): Promise<RedisMassInsert> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host, port }, () => {
        s.off('error', reject);
        const m = new RedisMassInsert(s, maxInFlight);
        if (password !== undefined) void m.send([['AUTH', password]]);
        resolve(m);
      });
      s.once('error', reject);
    });
  }

  private fail(err: Error): void {
    if (this.replied === this.sent && !this.failure && err.message.includes('closed')) return;
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    for (let end = text.indexOf('\r\n', start); end !== -1; end = text.indexOf('\r\n', start)) {
      if (text[start] === '-') this.errors.push(text.slice(start + 1, end));
      else if (text[start] === ':') this.integers += Number(text.slice(start + 1, end));
      this.replied++;
      start = end + 2;
    }
    this.carry = text.slice(start);
    this.wake();
  }

  private static encode(args: Array<string | number>): string {
    let out = `*${args.length}\r\n`;
    for (const a of args) {
      const s = String(a);
      out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    }
    return out;
  }

  /** Queues commands; waits when too many are unanswered or the socket is full. */
  send(commands: Array<Array<string | number>>): Promise<void> {
    return this.sendEncoded(commands.map(RedisMassInsert.encode).join(''), commands.length);
  }

  /** Queues `count` commands already encoded as RESP (by the caller, for speed); waits as send does. */
  async sendEncoded(resp: string, count: number): Promise<void> {
    if (this.failure) throw this.failure;
    const ok = this.socket.write(resp);
    this.sent += count;
    if (!ok) await new Promise<void>((r) => this.socket.once('drain', () => r()));
    while (this.sent - this.replied > this.maxInFlight && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
  }

  /** Drops the connection at once (after a failure: nothing more is waited for). */
  abort(): void {
    this.socket.destroy();
  }

  /** Waits for every reply; returns how many commands ran, the sum of their integer replies, and the errors Redis answered. */
  async finish(): Promise<{ commands: number; integers: number; errors: string[] }> {
    while (this.replied < this.sent && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    this.socket.end();
    if (this.failure && this.replied < this.sent) throw this.failure;
    return { commands: this.replied, integers: this.integers, errors: this.errors };
  }
}
