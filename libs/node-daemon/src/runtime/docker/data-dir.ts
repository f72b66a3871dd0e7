/**
 * Data-dir seeding: makes a slot's data volume the agent's own (numeric owner from the spec or the
 * image) and writes the spec's files into it, through a helper container that is never started.
 */
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
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
    const owner = await this.ownerOf(spec);
    if (spec.files.length > 0 || owner.uid !== 0) {
      await this.seed(spec, volumeName, owner, labels);
      onStep(
        'files_written',
        `data dir owned by ${owner.uid}:${owner.gid}` +
          (spec.files.length ? `; ${spec.files.length} file(s) written to the data volume` : ''),
      );
    }
  }

  /** Numeric owner for the written files: the spec's user, else the image's, else root. */
  private async ownerOf(spec: RuntimeStartSpec): Promise<Owner> {
    let user = spec.user;
    if (!user) user = (await this.docker.getImage(spec.image).inspect()).Config?.User;
    const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
    return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : { uid: 0, gid: 0 };
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
  private async seed(
    spec: RuntimeStartSpec,
    volumeName: string,
    owner: Owner,
    labels: Record<string, string>,
  ): Promise<void> {
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
      const mount = spec.dataMountPath.replace(/\/+$/, '');
      const parent = mount.slice(0, mount.lastIndexOf('/')) || '/';
      const base = mount.slice(mount.lastIndexOf('/') + 1);
      await seed.putArchive(filesArchive(spec, base, owner), { path: parent });
    } finally {
      await seed.remove({ force: true }).catch(() => undefined);
    }
  }
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
