import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * A private door to the real Docker engine: a unix socket that forwards every byte to
 * /var/run/docker.sock, and that a test can shut (every connection cut, nothing listening) and open
 * again. Code under test pointed at it (DOCKER_HOST=unix://<path>) sees exactly what it sees when
 * its engine goes away and comes back, while the engine itself (shared with other tests) keeps
 * running. The containers keep running too, as they do on a real dockerd restart with live-restore.
 */
export class DockerDoor {
  readonly path = path.join(os.tmpdir(), `berth-docker-door-${randomBytes(4).toString('hex')}.sock`);
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly target = '/var/run/docker.sock') {}

  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  async open(): Promise<void> {
    if (this.server) return;
    fs.rmSync(this.path, { force: true });
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    this.server = server;
  }

  /** Docker "goes away": nothing listens, every open connection (event streams too) is cut. */
  async shut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.path, { force: true });
  }
}
