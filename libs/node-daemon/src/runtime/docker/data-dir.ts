/**
 * Data-dir seeding: makes a slot's data volume the agent's own (numeric owner from the spec or the
 * image) and writes the spec's files into it, through a helper container that is never started.
 */
import type Docker from 'dockerode';
import { extract, pack } from 'tar-stream';
import { names, RuntimeStartSpec } from '../container-runtime';
import type { DockerContainers } from './containers';

type Owner = { uid: number; gid: number };

export class DockerDataDir {
  constructor(
    private readonly docker: Docker,
    private readonly containers: DockerContainers,
  ) {}

  /**
   * Seeds the data volume when there are files to write or the agent is not root (a root agent
   * with no files needs nothing), and reports it through `onStep`.
   */
  async prepare(
    spec: RuntimeStartSpec,
    volumeName: string,
    labels: Record<string, string>,
    onStep: (phase: string, message: string) => void,
  ): Promise<void> {
    const user = spec.user || (await this.docker.getImage(spec.image).inspect()).Config?.User || '';
    const numeric = numericOwner(user);
    // A named user (`USER node`) is resolved in the image's own /etc/passwd, so it is seeded too.
    if (spec.files.length > 0 || !numeric || numeric.uid !== 0) {
      const owner = await this.seed(spec, volumeName, user, labels);
      onStep(
        'files_written',
        `data dir owned by ${owner.uid}:${owner.gid}` +
          (spec.files.length ? `; ${spec.files.length} file(s) written to the data volume` : ''),
      );
    }
  }

  /**
   * Makes the data dir the agent's own and writes spec.files into it, before the slot's container
   * exists. Docker extracts an archive *into* a directory and never applies the archive's `./`
   * entry to that directory itself, so a volume mounted where the image has no (or a root-owned)
   * directory stays root's, and an agent running as uid 1000 cannot write its own data dir. The
   * only place the volume root can be named as an entry is its parent, which is on the container's
   * root filesystem (read-only for the slot). So: a helper container from the same image with the
   * same volume at the same path (Docker's copy-up of the image's content happens exactly as for
   * the slot), a writable rootfs, no network, never started; the archive goes to the parent with
   * `<basename>/` owned by the agent's user. Then the helper is removed.
   */
  private async seed(spec: RuntimeStartSpec, volumeName: string, user: string, labels: Record<string, string>): Promise<Owner> {
    const name = `${names.container(spec.nodeId, spec.slotId)}-seed`;
    await this.containers.remove(name); // a leftover of an interrupted deploy
    const seed = await this.docker.createContainer({
      name,
      Image: spec.image,
      // Never started; a command is only needed because create refuses an image without one.
      Entrypoint: ['/berth-seed-never-started'],
      Cmd: [],
      // No deployment label: if we die right here the reaper sees an orphan and removes it.
      Labels: labels,
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Mounts: [{ Type: 'volume', Source: volumeName, Target: spec.dataMountPath, ReadOnly: false }],
      },
    });
    try {
      const owner = numericOwner(user) ?? (await resolveInImage(seed, user));
      const mount = spec.dataMountPath.replace(/\/+$/, '');
      const parent = mount.slice(0, mount.lastIndexOf('/')) || '/';
      const base = mount.slice(mount.lastIndexOf('/') + 1);
      await seed.putArchive(filesArchive(spec, base, owner), { path: parent });
      return owner;
    } finally {
      await seed.remove({ force: true }).catch(() => undefined);
    }
  }
}

/** `uid[:gid]` as numbers; root for no user; undefined for a name (`node`, `node:node`, `1000:staff`). */
function numericOwner(user: string): Owner | undefined {
  if (!user) return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : undefined;
}

/**
 * A named user (and group) resolved the way the container's runtime does it: the image's own
 * /etc/passwd and /etc/group. A name the image does not define is an error (Docker would refuse
 * to start the container with it too), never a silent root.
 */
async function resolveInImage(container: Docker.Container, user: string): Promise<Owner> {
  const [u, g] = user.split(':');
  const passwd = await readImageFile(container, '/etc/passwd');
  const entry = (text: string | undefined, name: string) =>
    text?.split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = uid;
  } else {
    const pw = entry(passwd, u);
    if (!pw || !/^\d+$/.test(pw[2] ?? '') || !/^\d+$/.test(pw[3] ?? '')) {
      throw new Error(`the image's user '${u}' is not in its /etc/passwd; set a numeric user (uid:gid) in the template`);
    }
    uid = Number(pw[2]);
    gid = Number(pw[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const gr = entry(await readImageFile(container, '/etc/group'), g);
      if (!gr || !/^\d+$/.test(gr[2] ?? '')) throw new Error(`the image's group '${g}' is not in its /etc/group; set a numeric user (uid:gid) in the template`);
      gid = Number(gr[2]);
    }
  }
  return { uid, gid };
}

/** One small file of a (never started) container's filesystem, or undefined when it has none. */
async function readImageFile(container: Docker.Container, file: string): Promise<string | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await container.getArchive({ path: file });
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
  const tar = extract();
  let content: string | undefined;
  tar.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => void chunks.push(c as Buffer));
    body.on('end', () => {
      if (header.type === 'file' && content === undefined) content = Buffer.concat(chunks).toString('utf8');
      next();
    });
    body.resume();
  });
  await new Promise<void>((resolve, reject) => {
    tar.on('finish', resolve);
    tar.on('error', reject);
    stream.on('error', reject);
    stream.pipe(tar);
  });
  return content;
}

function filesArchive(spec: RuntimeStartSpec, base: string, owner: Owner): NodeJS.ReadableStream {
  const tar = pack();
  const dirs = new Set<string>();
  const own = { uid: owner.uid, gid: owner.gid };
  // The data dir itself (the volume root): the agent's, not world-writable.
  tar.entry({ name: `${base}/`, type: 'directory', mode: 0o750, ...own });
  for (const f of spec.files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        tar.entry({ name: `${base}/${dir}/`, type: 'directory', mode: 0o700, ...own });
      }
    }
    tar.entry({ name: `${base}/${f.path}`, mode: f.mode ?? 0o600, ...own }, f.content);
  }
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}
