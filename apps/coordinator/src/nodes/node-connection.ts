import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { NodeAgentClient, NodeEvent } from '@berth/proto';

/** How the coordinator reaches a node: injectable so unit specs run without a network. */
export interface NodeTransport {
  /** Trust on first use: the certificate the daemon presents at `address` (no verification). */
  fetchCertificate(address: string): Promise<{ pem: string; fingerprintSha256: string }>;
  /** A client pinned to the certificate, sending the node token as bearer. */
  createClient(address: string, c: { token: string; serverCertPem: string; fingerprintSha256: string }): NodeAgentClient;
}

export const NODE_TRANSPORT = Symbol('NODE_TRANSPORT');

export interface NodeConnectionOptions {
  nodeId: string;
  address: string;
  fingerprintSha256: string;
  token: string;
  heartbeatMs: number;
  maxBackoffMs: number;
  transport: NodeTransport;
  onEvent(ev: NodeEvent): void;
  /** A failed attempt or a broken stream; `attempt` counts consecutive failures. */
  onTrouble(message: string, attempt: number): void;
}

/** Same format either way: upper-case hex without separators. */
export function normaliseFingerprint(f: string): string {
  return f.replace(/[^a-fA-F0-9]/g, '').toUpperCase();
}

/**
 * One node: a pinned client and a WatchEvents stream, re-opened with exponential backoff
 * (250 ms doubling up to maxBackoffMs, with jitter) whenever it fails or ends. The client is made
 * once the daemon's certificate has been fetched and matched against the enrolled fingerprint.
 */
export class NodeConnection {
  private client: NodeAgentClient | undefined;
  private stream: ClientReadableStream<NodeEvent> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly o: NodeConnectionOptions) {}

  get nodeId(): string {
    return this.o.nodeId;
  }

  get address(): string {
    return this.o.address;
  }

  /** The pinned client, once the certificate has been checked (undefined before). */
  getClient(): NodeAgentClient | undefined {
    return this.client;
  }

  start(): void {
    void this.connect();
  }

  /** Drops the current stream (e.g. silent past the grace period: the TCP connection may be half-open) and reconnects now. */
  restart(): void {
    if (this.closed) return;
    this.dropStream();
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.dropStream();
    this.client?.close();
    this.client = undefined;
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners();
      s.on('error', () => undefined); // the CANCELLED that cancel() raises
      s.cancel();
    }
  }

  private async connect(): Promise<void> {
    if (this.closed || this.stream) return;
    try {
      if (!this.client) {
        const cert = await this.o.transport.fetchCertificate(this.o.address);
        if (normaliseFingerprint(cert.fingerprintSha256) !== normaliseFingerprint(this.o.fingerprintSha256)) {
          throw new Error(`the certificate at ${this.o.address} (${cert.fingerprintSha256}) is not the enrolled one (${this.o.fingerprintSha256}); refusing to talk to it`);
        }
        if (this.closed) return;
        this.client = this.o.transport.createClient(this.o.address, { token: this.o.token, serverCertPem: cert.pem, fingerprintSha256: this.o.fingerprintSha256 });
      }
      if (this.closed || this.stream) return;
      const stream = this.client.watchEvents({ heartbeatIntervalMs: this.o.heartbeatMs });
      this.stream = stream;
      stream.on('data', (ev: NodeEvent) => {
        this.failures = 0;
        this.o.onEvent(ev);
      });
      stream.on('error', (e: ServiceError) => this.broken(stream, e.details || e.message));
      stream.on('end', () => this.broken(stream, 'stream ended'));
    } catch (e) {
      this.scheduleRetry((e as Error).message);
    }
  }

  private broken(stream: ClientReadableStream<NodeEvent>, why: string): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.removeAllListeners();
    stream.on('error', () => undefined);
    this.scheduleRetry(why);
  }

  private scheduleRetry(why: string): void {
    if (this.closed) return;
    this.failures += 1;
    this.o.onTrouble(why, this.failures);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, backoffMs(this.failures, this.o.maxBackoffMs));
    this.timer.unref?.();
  }
}

/** 250 ms, 500 ms, 1 s ... capped, with ±20 % jitter so a restarted coordinator does not stampede. */
export function backoffMs(attempt: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.min(20, Math.max(0, attempt - 1)));
  return Math.max(50, Math.round(base * (0.8 + 0.4 * random())));
}
