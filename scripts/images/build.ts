/**
 * The Docker side of `npm run images`: build a folder (tar context from tar-stream, dockerode
 * `buildImage`), push a tag, and stream what the engine reports to the terminal as it happens.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import Docker from 'dockerode';
import { pack, type Pack } from 'tar-stream';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** One line of the engine's JSON progress stream (build, pull or push). */
interface ProgressEvent {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Digest?: string };
}

function addFolder(tar: Pack, dir: string, prefix = ''): void {
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    const st = statSync(file);
    const entry = { name: `${prefix}${name}`, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      tar.entry({ ...entry, name: `${entry.name}/`, type: 'directory' });
      addFolder(tar, file, `${entry.name}/`);
    } else {
      tar.entry(entry, readFileSync(file));
    }
  }
}

/**
 * Follows one engine stream to its end: build output is written as it comes, layer statuses
 * (pull, push) once per change rather than per progress tick. Resolves with every event; an
 * `error` event rejects with the engine's message.
 */
function follow(docker: Docker, stream: NodeJS.ReadableStream, out: Writable): Promise<ProgressEvent[]> {
  const lastStatus = new Map<string, string>();
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        const failed = events.find((e) => e.error || e.errorDetail?.message);
        if (err || failed) reject(new Error(err?.message ?? failed?.errorDetail?.message ?? failed?.error));
        else resolve(events);
      },
      (e: ProgressEvent) => {
        if (e.stream) out.write(e.stream);
        else if (e.status && lastStatus.get(e.id ?? '') !== e.status) {
          lastStatus.set(e.id ?? '', e.status);
          out.write(`${e.id ? `${e.id}: ` : ''}${e.status}\n`);
        }
      },
    ),
  );
}

/**
 * Builds `dir` (its Dockerfile and every file beside it) as `tag` and returns the image id.
 * `registryConfig` lends credentials to the engine for pulling a private base image.
 */
export async function buildFolder(
  docker: Docker,
  dir: string,
  opts: {
    tag: string;
    buildargs?: Record<string, string>;
    registryConfig?: Record<string, RegistryCredentials>;
  },
  out: Writable,
): Promise<string> {
  const tar = pack();
  addFolder(tar, dir);
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, {
    t: opts.tag,
    buildargs: opts.buildargs,
    rm: true,
    forcerm: true,
    ...(opts.registryConfig ? { registryconfig: opts.registryConfig } : {}),
  });
  const events = await follow(docker, stream, out);
  const id = events.find((e) => e.aux?.ID)?.aux?.ID ?? (await docker.getImage(opts.tag).inspect()).Id;
  return id;
}

/**
 * Tags `image` as `<repository>:<tag>`, pushes it and returns the manifest digest the registry
 * answered (`sha256:...`). Credentials go to the engine in the X-Registry-Auth header only.
 */
export async function pushImage(
  docker: Docker,
  image: string,
  target: { repository: string; registry: string; tag: string },
  credentials: RegistryCredentials | undefined,
  out: Writable,
): Promise<string> {
  await docker.getImage(image).tag({ repo: target.repository, tag: target.tag });
  const ref = `${target.repository}:${target.tag}`;
  // The engine wants the header even for an anonymous push (an empty one is "no credentials").
  const authconfig = credentials ? { ...credentials, serveraddress: target.registry } : {};
  const stream = await docker.getImage(ref).push({ authconfig });
  const events = await follow(docker, stream, out);
  const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
  if (!digest) throw new Error(`the registry reported no digest for ${ref}`);
  return digest;
}
