import * as net from 'node:net';
import { CapacityExhaustedError } from '@berth/domain';

export type PortProbe = (host: string, port: number) => Promise<boolean>;

/** True when nothing on the host holds the port (test-bind, then close). */
export const bindProbe: PortProbe = (host, port) =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });

/**
 * Host ports for published container ports. In memory only: after a restart it is rebuilt from
 * container labels (markUsed). Reservation is synchronous before any await, so concurrent
 * allocations can never get the same port; a port another process holds is skipped.
 */
export class PortPool {
  private readonly owner = new Map<number, string>();
  private cursor: number;

  constructor(
    readonly from: number,
    readonly to: number,
    private readonly bindHost: string,
    private readonly probe: PortProbe = bindProbe,
  ) {
    this.cursor = from;
  }

  get total(): number {
    return this.to - this.from + 1;
  }
  get free(): number {
    return this.total - this.owner.size;
  }

  /** Records ports found in use by an adopted container. */
  markUsed(port: number, ownerId: string): void {
    if (port >= this.from && port <= this.to) this.owner.set(port, ownerId);
  }

  ownerOf(port: number): string | undefined {
    return this.owner.get(port);
  }

  /** Gives `count` distinct free ports to ownerId, or throws CapacityExhaustedError. */
  async allocate(count: number, ownerId: string): Promise<number[]> {
    const got: number[] = [];
    let scanned = 0;
    try {
      while (got.length < count) {
        if (scanned >= this.total)
          throw new CapacityExhaustedError(
            `port pool ${this.from}-${this.to} is exhausted (${count} needed, ${this.free + got.length} free)`,
          );
        const port = this.cursor;
        this.cursor = port >= this.to ? this.from : port + 1;
        scanned++;
        if (this.owner.has(port)) continue;
        this.owner.set(port, ownerId); // reserve before awaiting
        if (await this.probe(this.bindHost, port)) got.push(port);
        else this.owner.delete(port); // held by something else on the host: skip it
      }
      return got;
    } catch (e) {
      this.release(got, ownerId);
      throw e;
    }
  }

  release(ports: number[], ownerId: string): void {
    for (const p of ports) if (this.owner.get(p) === ownerId) this.owner.delete(p);
  }

  releaseOwner(ownerId: string): void {
    for (const [p, o] of this.owner) if (o === ownerId) this.owner.delete(p);
  }
}
