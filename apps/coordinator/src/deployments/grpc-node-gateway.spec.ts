import { FailureReason, SlotState, type DeployEvent, type Slot } from '@berth/proto';
import { deployResult, fromProtoDeployEvent, fromProtoSlot } from './grpc-node-gateway';

/** The Deploy stream's events in our own terms: pull progress, the digest, a failure's reason. */
describe('gRPC node gateway mapping', () => {
  const slot = (over: Partial<Slot> = {}): Slot => ({
    slotId: 's1',
    deploymentId: 'd1',
    customerId: 'c1',
    agentTypeId: 'myrai',
    agentVersion: '1',
    image: '127.0.0.1:5000/team/myrai:1.0',
    state: SlotState.SLOT_STATE_HEALTHY,
    message: 'healthy',
    ports: [],
    resources: undefined,
    containerId: 'x',
    restartCount: 0,
    createdAtMs: 0,
    stateSinceMs: 0,
    lastProbeAtMs: 0,
    oomKilled: false,
    imageDigest: '',
    ...over,
  });
  const event = (over: Partial<DeployEvent>): DeployEvent => ({
    deploymentId: 'd1',
    slotId: 's1',
    phase: 'accepted',
    state: SlotState.SLOT_STATE_CREATING,
    message: '',
    atMs: 0,
    final: false,
    slot: undefined,
    pull: undefined,
    failureReason: FailureReason.FAILURE_REASON_UNSPECIFIED,
    ...over,
  });
  const DIGEST = `127.0.0.1:5000/team/myrai@sha256:${'a'.repeat(64)}`;

  it('image_pull carries its progress; other phases none', () => {
    expect(fromProtoDeployEvent(event({ phase: 'image_pull', message: 'pulling', pull: { layersDone: 1, layersTotal: 3, bytesDone: 10, bytesTotal: 30 } }))).toEqual({
      phase: 'image_pull',
      message: 'pulling',
      state: 'creating',
      pull: { layersDone: 1, layersTotal: 3, bytesDone: 10, bytesTotal: 30 },
    });
    expect(fromProtoDeployEvent(event({ phase: 'image_ready', message: `pulled ${DIGEST}` }))).toEqual({ phase: 'image_ready', message: `pulled ${DIGEST}`, state: 'creating' });
  });

  it('the final slot keeps its digest; an empty one is none', () => {
    expect(deployResult(event({ final: true, slot: slot({ imageDigest: DIGEST }) }))).toMatchObject({ state: 'healthy', imageDigest: DIGEST });
    expect(fromProtoSlot(slot())).not.toHaveProperty('imageDigest');
  });

  it.each([
    [FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND, 'image_not_found'],
    [FailureReason.FAILURE_REASON_REGISTRY_AUTH, 'registry_auth'],
    [FailureReason.FAILURE_REASON_REGISTRY_UNREACHABLE, 'registry_unreachable'],
    [FailureReason.FAILURE_REASON_IMAGE_TOO_LARGE, 'image_too_large'],
    [FailureReason.FAILURE_REASON_IMAGE_PULL, 'image_pull'],
  ])('a failed final event with reason %s keeps it and its sentence, with or without a slot', (reason, name) => {
    const failed = { final: true, phase: 'failed', state: SlotState.SLOT_STATE_FAILED, message: 'the registry said no', failureReason: reason };
    expect(deployResult(event({ ...failed, slot: slot({ state: SlotState.SLOT_STATE_FAILED, message: 'failed' }) }))).toMatchObject({
      state: 'failed',
      failure: { reason: name, message: 'the registry said no' },
    });
    expect(deployResult(event(failed))).toMatchObject({ slotId: 's1', deploymentId: 'd1', state: 'failed', ports: [], failure: { reason: name } });
    expect(fromProtoDeployEvent(event(failed)).failureReason).toBe(name);
  });

  it('a final event with neither a slot nor a reason is no result (the stream is retried as before)', () => {
    expect(deployResult(event({ final: true }))).toBeUndefined();
  });
});
