import Docker from 'dockerode';
import type { SlotResources } from '@berth/domain';
import { names } from './container-runtime';
import type {
  ContainerHandle,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ImageInfo,
  ImageRemoval,
  LabelledContainer,
  LogChunk,
  LogOptions,
  PullImageOptions,
  RuntimeEvent,
  RuntimeInfo,
  RuntimeStartSpec,
} from './container-runtime';
import { DockerContainers } from './docker/containers';
import { DockerDataDir } from './docker/data-dir';
import { containerEvents } from './docker/events';
import { DockerImages } from './docker/images';
import { slotLabels, volumeLabels } from './docker/labels';
import { containerLogs } from './docker/logs';
import { DockerNetworks } from './docker/networks';
import { DockerVolumes } from './docker/volumes';

/**
 * Our ContainerRuntime on Docker (dockerode). This class only composes; the Docker calls live in
 * its parts under docker/, one per kind of engine object: containers.ts (create with the
 * hardening, start/stop/restart/update/inspect/stats/remove/list), data-dir.ts (seeding a data
 * volume through a never-started helper), networks.ts, volumes.ts, logs.ts, events.ts,
 * images.ts (pull with registry credentials and progress, inspect, image disk use) and labels.ts
 * (what every object carries and how a handle is read back).
 */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;
  private readonly containers: DockerContainers;
  private readonly dataDir: DockerDataDir;
  private readonly networks: DockerNetworks;
  private readonly volumes: DockerVolumes;
  private readonly images: DockerImages;

  constructor(
    private readonly nodeId: string,
    docker?: Docker,
  ) {
    this.docker = docker ?? new Docker();
    this.containers = new DockerContainers(this.docker, nodeId);
    this.dataDir = new DockerDataDir(this.docker, this.containers);
    this.networks = new DockerNetworks(this.docker, nodeId);
    this.volumes = new DockerVolumes(this.docker, nodeId);
    this.images = new DockerImages(this.docker);
  }

  async info(): Promise<RuntimeInfo> {
    const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
    return {
      engineVersion: version.Version,
      apiVersion: version.ApiVersion,
      memoryBytes: info.MemTotal,
      nanoCpus: info.NCPU * 1e9,
    };
  }

  async start(
    spec: RuntimeStartSpec,
    onStep: (phase: string, message: string) => void = () => undefined,
  ): Promise<ContainerHandle> {
    const baseLabels = slotLabels(spec);

    // The network and the data volume do not depend on each other: prepare both at once
    // (network creation is the slowest step before the container exists).
    const networkName = names.network(spec.nodeId, spec.slotId);
    const volumeName = names.volume(spec.slotId, spec.agentTypeId);
    const network = this.networks
      .create(networkName, baseLabels)
      .then(() => onStep('network_ready', `network ${networkName}`));
    const volume = (async () => {
      await this.volumes.create(volumeName, volumeLabels(spec));
      onStep('volume_ready', `data volume ${volumeName}`);
      await this.dataDir.prepare(spec, volumeName, baseLabels, onStep);
    })();
    const [n, v] = await Promise.allSettled([network, volume]);
    if (n.status === 'rejected') throw n.reason;
    if (v.status === 'rejected') throw v.reason;

    return this.containers.create(spec, networkName, volumeName, onStep);
  }

  async stop(handle: ContainerHandle, timeoutS = 10): Promise<void> {
    await this.containers.stop(handle.containerId, timeoutS);
  }

  async resume(handle: ContainerHandle): Promise<void> {
    await this.containers.resume(handle.containerId);
  }

  async restart(handle: ContainerHandle, timeoutS = 10): Promise<void> {
    await this.containers.restart(handle.containerId, timeoutS);
  }

  async destroy(
    handle: Pick<ContainerHandle, 'containerId' | 'slotId'>,
    opts: { purgeData?: boolean } = {},
  ): Promise<void> {
    await this.containers.remove(handle.containerId);
    await this.networks.removeForSlot(handle.slotId);
    if (opts.purgeData) await this.volumes.removeForSlot(handle.slotId);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.containers.remove(containerId);
  }

  async removeNetwork(networkId: string): Promise<void> {
    await this.networks.remove(networkId);
  }

  async inspect(handle: Pick<ContainerHandle, 'containerId'>): Promise<ContainerStatus | undefined> {
    return this.containers.inspect(handle.containerId);
  }

  async stats(handle: ContainerHandle): Promise<ContainerStats> {
    return this.containers.stats(handle.containerId);
  }

  async update(handle: ContainerHandle, resources: SlotResources): Promise<void> {
    await this.containers.update(handle.containerId, resources);
  }

  async *logs(handle: ContainerHandle, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    yield* containerLogs(this.docker, handle.containerId, opts, signal);
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    yield* containerEvents(this.docker, this.nodeId, signal);
  }

  async list(): Promise<LabelledContainer[]> {
    return this.containers.list();
  }

  async listSlotNetworks(): Promise<
    { networkId: string; slotId: string; createdAtMs: number; containers: number }[]
  > {
    return this.networks.list();
  }

  async pullImage(image: string, opts?: PullImageOptions): Promise<void> {
    await this.images.pull(image, opts);
  }

  async inspectImage(image: string): Promise<ImageInfo | null> {
    return this.images.inspect(image);
  }

  async imageDiskUsage(): Promise<number> {
    return this.images.diskUsage();
  }

  async removeImage(image: string): Promise<ImageRemoval> {
    return this.images.remove(image);
  }
}
