/**
 * Images on Docker: pull (dockerode `pull` + `modem.followProgress`, registry credentials as
 * `authconfig` for that one call), inspect, and the engine's image disk use. Docker's words are
 * turned into ours here: its progress lines into per-layer progress, its error messages into a
 * PullFailureKind (the messages each rule matches were seen from Docker 20.10 against a
 * distribution registry; see docs/node-agent.md).
 */
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ImageInfo,
  ImageLayerProgress,
  ImagePullFailure,
  ImageRemoval,
  PullFailureKind,
  PullImageOptions,
} from '../container-runtime';

/** One line of Docker's pull progress stream. */
interface PullLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export class DockerImages {
  private usage?: Promise<number>;

  constructor(private readonly docker: Docker) {}

  async pull(image: string, opts: PullImageOptions = {}): Promise<void> {
    const { auth, signal } = opts;
    const authconfig = auth && { username: auth.username, password: auth.password, serveraddress: auth.server };
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(image, { ...(authconfig ? { authconfig } : {}), abortSignal: signal });
    } catch (e) {
      throw signal?.aborted ? abortError(signal) : pullFailure(e);
    }
    await new Promise<void>((resolve, reject) => {
      let failure: ImagePullFailure | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (signal?.aborted) reject(abortError(signal));
          else if (err) reject(pullFailure(err));
          else if (failure) reject(failure);
          else resolve();
        },
        (line: PullLine) => {
          if (line.error || line.errorDetail) {
            failure ??= classifyPullError(line.errorDetail?.message ?? line.error ?? 'pull failed');
            return;
          }
          const p = toLayerProgress(line);
          if (p) opts.onLayer?.(p);
        },
      );
    });
  }

  async inspect(image: string): Promise<ImageInfo | null> {
    try {
      const i = await this.docker.getImage(image).inspect();
      return { id: i.Id, repoDigests: i.RepoDigests ?? [], sizeBytes: i.Size };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  /** Removes one reference, never forced: a 409 (a container uses it) is `in_use`. */
  async remove(image: string): Promise<ImageRemoval> {
    try {
      await this.docker.getImage(image).remove({ force: false, noprune: false });
      return 'removed';
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code === 404) return 'missing';
      if (code === 409) return 'in_use';
      throw e;
    }
  }

  /**
   * The engine's `LayersSize` (what `docker system df` shows for images; shared layers once).
   * Concurrent callers share one call: the engine refuses a second disk-usage run while one is
   * going ("a disk usage operation is already running"), which is retried a few times.
   */
  diskUsage(): Promise<number> {
    this.usage ??= this.df().finally(() => (this.usage = undefined));
    return this.usage;
  }

  private async df(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return ((await this.docker.df()) as { LayersSize?: number }).LayersSize ?? 0;
      } catch (e) {
        if (attempt >= 5 || !/already running/i.test(String((e as Error).message))) throw e;
        await sleep(200 * attempt);
      }
    }
  }
}

const LAYER_PHASES: Record<string, ImageLayerProgress['phase']> = {
  'Pulling fs layer': 'waiting',
  Waiting: 'waiting',
  Downloading: 'downloading',
  'Verifying Checksum': 'downloaded',
  'Download complete': 'downloaded',
  Extracting: 'downloaded',
  'Pull complete': 'done',
  'Already exists': 'done',
};

/** One of Docker's progress lines as layer progress; undefined for lines about the whole image. */
export function toLayerProgress(line: PullLine): ImageLayerProgress | undefined {
  if (!line.id || !line.status) return undefined;
  // "Retrying in 5 seconds": Docker's own retry of one layer download.
  const phase = /^Retrying in /.test(line.status) ? 'waiting' : LAYER_PHASES[line.status];
  if (!phase) return undefined;
  const d = line.progressDetail ?? {};
  return {
    layerId: line.id,
    phase,
    ...(phase === 'downloading' && d.current !== undefined ? { currentBytes: d.current } : {}),
    ...(d.total ? { totalBytes: d.total } : {}),
    ...(line.status === 'Already exists' ? { present: true } : {}),
  };
}

/** Rules over Docker's message, first match wins (Docker answers most pull errors as HTTP 500). */
const RULES: [PullFailureKind, RegExp][] = [
  // "manifest for <ref> not found: manifest unknown", "repository name not known to registry",
  // Docker Hub: "pull access denied for x, repository does not exist or may require 'docker login'".
  ['not_found', /manifest unknown|name unknown|not found|repository does not exist|no such image/i],
  // "unauthorized: authentication required", "no basic auth credentials",
  // "denied: requested access to the resource is denied", "incorrect username or password".
  ['unauthorized', /unauthorized|authentication required|no basic auth credentials|access .*denied|incorrect username or password/i],
  // Timeouts, dropped connections and 5xx answers: worth another try (before "unreachable", whose
  // words such as "dial tcp" also appear in a timeout's message).
  [
    'transient',
    /timeout|timed out|deadline exceeded|connection reset|broken pipe|unexpected EOF|\bEOF\b|too many requests|toomanyrequests|(status|HTTP)[: ]+5\d\d|internal server error|bad gateway|service unavailable|gateway time-?out/i,
  ],
  // "dial tcp 127.0.0.1:5000: connect: connection refused", "lookup host on ...: no such host",
  // "no route to host", "network is unreachable", TLS problems ("x509: ...", "http: server gave
  // HTTP response to HTTPS client").
  [
    'unreachable',
    /connection refused|no such host|no route to host|network is unreachable|host is unreachable|server misbehaving|x509|certificate|tls:|HTTP response to HTTPS client/i,
  ],
];

export function classifyPullError(message: string, statusCode?: number): ImagePullFailure {
  const detail = message.trim();
  if (statusCode === 404) return new ImagePullFailure('not_found', detail);
  const kind = RULES.find(([, re]) => re.test(detail))?.[0] ?? 'failed';
  return new ImagePullFailure(kind, detail);
}

/** An error from dockerode: an engine answer (status code + message) or a socket error. */
function pullFailure(e: unknown): ImagePullFailure {
  const err = e as { statusCode?: number; message?: string; code?: string };
  const message = String(err.message ?? e);
  if (err.statusCode === undefined && err.code)
    return new ImagePullFailure('failed', `Docker engine not reachable: ${message}`);
  // dockerode prefixes the engine's message: "(HTTP code 500) server error - <message> ".
  return classifyPullError(message.replace(/^\(HTTP code \d+\) [^-]*- /, ''), err.statusCode);
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('pull aborted');
}
