/**
 * The last lines a container printed, for the reason of a deploy that never became healthy: the
 * customer (and the operator) read why their agent refused to start ("missing api key") instead
 * of only "exited with code 1". Read before the container is removed; bounded in lines, in
 * characters and in time, and never an error of its own.
 */
import type { ContainerHandle, ContainerRuntime } from '../runtime/container-runtime';

export const LAST_LOG_LINES = 10;
const MAX_CHARS = 1500;
const TIMEOUT_MS = 2000;

export async function lastLogLines(runtime: ContainerRuntime, handle: ContainerHandle | undefined, lines = LAST_LOG_LINES): Promise<string[]> {
  if (!handle) return [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of runtime.logs(handle, { tail: lines, follow: false }, abort.signal)) chunks.push(chunk.data);
  } catch {
    // No logs (the container is gone, Docker is slow): the reason goes without them.
  } finally {
    clearTimeout(timer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const out = text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-lines);
  // Keep the newest lines when the whole is too long.
  while (out.length > 1 && out.join('\n').length > MAX_CHARS) out.shift();
  return out.map((l) => (l.length > MAX_CHARS ? `${l.slice(0, MAX_CHARS)}…` : l));
}

/** `message`, followed by the container's last lines when it printed any. */
export async function withLastLogLines(runtime: ContainerRuntime, handle: ContainerHandle | undefined, message: string): Promise<string> {
  const lines = await lastLogLines(runtime, handle);
  return lines.length ? `${message}; last log lines:\n${lines.join('\n')}` : message;
}
