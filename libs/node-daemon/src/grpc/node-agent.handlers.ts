import { Metadata, sendUnaryData, ServerUnaryCall, ServerWritableStream, status } from '@grpc/grpc-js';
import {
  Capacity as ProtoCapacity,
  DeployEvent,
  DeployRequest,
  fromProtoDeploySpec,
  fromProtoResources,
  GetCapacityRequest,
  GetInfoRequest,
  ListSlotsRequest,
  ListSlotsResponse,
  LogChunk as ProtoLogChunk,
  LogStream,
  NODE_PROTOCOL_VERSIONS,
  NodeAgentServer,
  NodeEvent,
  NodeInfo,
  SetKeptImagesRequest,
  SetKeptImagesResponse,
  Slot,
  SlotRef,
  SlotState,
  StreamLogsRequest,
  TerminateRequest,
  toProtoSlotState,
  UpdateResourcesRequest,
  WatchEventsRequest,
} from '@berth/proto';
import { InvalidArgumentError, NodeSlotState } from '@berth/domain';
import type { ImageService } from '../images/image.service';
import { errorMessage, Logger } from '../logger';
import { SlotRecord } from '../slots/slot-record';
import { SlotService } from '../slots/slot.service';
import { toGrpcError } from './errors';
import { fromProtoImageOptions, fromProtoRegistryAuth, toProtoCapacity, toProtoDeployEvent, toProtoSlot } from './mappings';
import { pullImageHandler } from './pull-image.handler';

export interface HandlerDeps {
  slots: SlotService;
  images: ImageService;
  checkAuth: (md: Metadata) => void;
  log: Logger;
  info: () => Promise<Omit<NodeInfo, 'synced'>>;
  nodeId: string;
  heartbeatMs: number;
}

/** Thin edge: authenticate, map proto -> domain, call one service method, map back. */
export function createNodeAgentHandlers(d: HandlerDeps): NodeAgentServer {
  const unary =
    <Req, Res>(name: string, fn: (req: Req) => Promise<Res> | Res) =>
    async (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      try {
        d.checkAuth(call.metadata);
        cb(null, await fn(call.request));
      } catch (e) {
        const err = toGrpcError(e);
        if (err.code === status.INTERNAL) d.log.error(`${name} failed`, { error: errorMessage(e) });
        cb(err);
      }
    };
  const slotRef = (r: { slotId: string }) => {
    if (!r.slotId) throw new InvalidArgumentError('slot_id is required');
    return r.slotId;
  };

  return {
    deploy: (call: ServerWritableStream<DeployRequest, DeployEvent>) => {
      let off: (() => void) | undefined;
      call.on('cancelled', () => off?.());
      try {
        d.checkAuth(call.metadata);
        if (!call.request.spec) throw new InvalidArgumentError('spec is required');
        const tracker = d.slots.deploy(
          fromProtoDeploySpec(call.request.spec),
          call.request.replace,
          fromProtoRegistryAuth(call.request.registryAuth),
          fromProtoImageOptions(call.request),
        );
        off = tracker.follow((p) => {
          if (call.cancelled || call.destroyed) return;
          call.write(toProtoDeployEvent(p));
          if (p.final) {
            queueMicrotask(() => off?.());
            call.end();
          }
        });
      } catch (e) {
        call.emit('error', toGrpcError(e));
      }
    },
    terminate: unary<TerminateRequest, Slot>('Terminate', async (r) =>
      toProtoSlot(await d.slots.terminate(slotRef(r), r.purgeData), 'terminated'),
    ),
    stop: unary<SlotRef, Slot>('Stop', async (r) => toProtoSlot(await d.slots.stop(slotRef(r)))),
    start: unary<SlotRef, Slot>('Start', async (r) => toProtoSlot(await d.slots.start(slotRef(r)))),
    restart: unary<SlotRef, Slot>('Restart', async (r) => toProtoSlot(await d.slots.restart(slotRef(r)))),
    updateResources: unary<UpdateResourcesRequest, Slot>('UpdateResources', async (r) => {
      if (!r.resources) throw new InvalidArgumentError('resources are required');
      return toProtoSlot(await d.slots.updateResources(slotRef(r), fromProtoResources(r.resources)));
    }),
    getSlot: unary<SlotRef, Slot>('GetSlot', (r) => toProtoSlot(d.slots.get(slotRef(r)))),
    listSlots: unary<ListSlotsRequest, ListSlotsResponse>('ListSlots', () => ({
      slots: d.slots.list().map((s) => toProtoSlot(s)),
    })),
    getCapacity: unary<GetCapacityRequest, ProtoCapacity>('GetCapacity', () =>
      toProtoCapacity(d.slots.capacity()),
    ),
    pullImage: pullImageHandler(d),
    setKeptImages: unary<SetKeptImagesRequest, SetKeptImagesResponse>('SetKeptImages', (r) => {
      d.images.cache.setKept(r.images);
      return {};
    }),
    getInfo: unary<GetInfoRequest, NodeInfo>('GetInfo', async () => ({
      ...(await d.info()),
      synced: d.slots.synced,
      protocolVersions: [...NODE_PROTOCOL_VERSIONS],
    })),
    streamLogs: async (call: ServerWritableStream<StreamLogsRequest, ProtoLogChunk>) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      try {
        d.checkAuth(call.metadata);
        const r = call.request;
        for await (const chunk of d.slots.logs(
          slotRef(r),
          { tail: r.tail, follow: r.follow, sinceMs: r.sinceMs || undefined },
          abort.signal,
        )) {
          if (call.cancelled) break;
          if (
            !call.write({
              stream: chunk.stream === 'stderr' ? LogStream.LOG_STREAM_STDERR : LogStream.LOG_STREAM_STDOUT,
              data: chunk.data,
            })
          ) {
            await new Promise((resolve) => call.once('drain', resolve));
          }
        }
        call.end();
      } catch (e) {
        if (!call.cancelled) call.emit('error', toGrpcError(e));
      }
    },
    watchEvents: (call: ServerWritableStream<WatchEventsRequest, NodeEvent>) => {
      try {
        d.checkAuth(call.metadata);
      } catch (e) {
        call.emit('error', toGrpcError(e));
        return;
      }
      const heartbeat = () =>
        call.write({
          event: {
            $case: 'heartbeat',
            value: {
              nodeId: d.nodeId,
              atMs: Date.now(),
              capacity: toProtoCapacity(d.slots.capacity()),
              synced: d.slots.synced,
              imageBytes: d.images.lastDiskUsage,
            },
          },
        });
      const onState = (rec: SlotRecord, prev: NodeSlotState | 'terminated') => {
        const gone = d.slots.slots.get(rec.slotId) !== rec;
        call.write({
          event: {
            $case: 'slotStateChanged',
            value: {
              slot: toProtoSlot(rec, gone ? 'terminated' : rec.state),
              previousState: prev ? toProtoSlotState(prev) : SlotState.SLOT_STATE_UNSPECIFIED,
            },
          },
        });
      };
      heartbeat();
      const timer = setInterval(
        heartbeat,
        call.request.heartbeatIntervalMs > 0
          ? Math.max(250, call.request.heartbeatIntervalMs)
          : d.heartbeatMs,
      );
      d.slots.events.on('state', onState);
      const close = () => {
        clearInterval(timer);
        d.slots.events.off('state', onState);
      };
      call.on('cancelled', close);
      call.on('close', close);
      call.on('error', close);
    },
  };
}
