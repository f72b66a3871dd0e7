/**
 * Container logs: a slot container's stdout/stderr, once or followed, demultiplexed from Docker's
 * framed stream into chunks.
 */
import type Docker from 'dockerode';
import { LogChunk, LogOptions } from '../container-runtime';

export async function* containerLogs(
  docker: Docker,
  containerId: string,
  opts: LogOptions,
  signal: AbortSignal,
): AsyncIterable<LogChunk> {
  const c = docker.getContainer(containerId);
  const base = {
    stdout: true,
    stderr: true,
    tail: opts.tail && opts.tail > 0 ? opts.tail : 'all',
    since: opts.sinceMs ? Math.floor(opts.sinceMs / 1000) : 0,
  };
  if (!opts.follow) {
    const buf = (await c.logs({ ...base, follow: false } as Docker.ContainerLogsOptions & {
      follow: false;
    })) as unknown as Buffer;
    yield* demux([buf]);
    return;
  }
  const stream = (await c.logs({ ...base, follow: true } as Docker.ContainerLogsOptions & {
    follow: true;
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const abort = () => stream.destroy();
  signal.addEventListener('abort', abort, { once: true });
  try {
    yield* demux(stream as AsyncIterable<Buffer>);
  } finally {
    signal.removeEventListener('abort', abort);
    stream.destroy();
  }
}

/** Splits Docker's multiplexed log stream (8-byte frame headers) into chunks. */
async function* demux(source: AsyncIterable<Buffer> | Buffer[]): AsyncIterable<LogChunk> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0] === 2 ? 'stderr' : 'stdout', data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}
