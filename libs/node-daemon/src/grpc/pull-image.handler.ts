/**
 * PullImage: pulls an image into the node's cache ahead of deploys (pre-pull) and streams its
 * progress; the last event (final) says ok with the digest and whether it was cached, or the
 * failure reason with its message. A refused reference (unpinned, invalid) is a gRPC error.
 */
import { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { PullImageEvent, PullImageRequest } from '@berth/proto';
import { InvalidArgumentError } from '@berth/domain';
import { ImagePullError } from '../images/image-errors';
import type { ImageService } from '../images/image.service';
import { errorMessage, Logger } from '../logger';
import { toGrpcError } from './errors';
import { fromProtoRegistryAuth, toProtoFailureReason, toProtoPullProgress } from './mappings';

const EMPTY: Omit<PullImageEvent, 'image' | 'message'> = {
  progress: undefined,
  final: false,
  ok: false,
  digest: '',
  failureReason: toProtoFailureReason(undefined),
  cached: false,
};

export function pullImageHandler(deps: {
  images: ImageService;
  checkAuth: (md: Metadata) => void;
  log: Logger;
}) {
  return async (call: ServerWritableStream<PullImageRequest, PullImageEvent>): Promise<void> => {
    const image = call.request.image;
    const write = (e: Partial<PullImageEvent>) => {
      if (!call.cancelled && !call.destroyed) call.write({ ...EMPTY, image, message: '', ...e });
    };
    try {
      deps.checkAuth(call.metadata);
      if (!image) throw new InvalidArgumentError('image is required');
      // Leaving early (the client cancelled) does not stop the pull: a deploy may share it.
      const ready = await deps.images.ensure(image, fromProtoRegistryAuth(call.request.registryAuth), (p) =>
        write({ progress: toProtoPullProgress(p), message: `pulling ${image}` }),
      );
      write({
        final: true,
        ok: true,
        digest: ready.digest,
        cached: ready.cached,
        message: ready.cached ? `${image} is cached on this node` : `${image} pulled`,
      });
      call.end();
    } catch (e) {
      if (call.cancelled) return;
      if (!(e instanceof ImagePullError)) {
        call.emit('error', toGrpcError(e));
        return;
      }
      deps.log.debug('PullImage failed', { image, reason: e.reason, error: errorMessage(e) });
      write({ final: true, ok: false, failureReason: toProtoFailureReason(e.reason), message: e.message });
      call.end();
    }
  };
}
