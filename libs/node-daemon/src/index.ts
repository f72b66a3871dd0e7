/**
 * The node daemon's public surface. `apps/node-agent/src/main.ts` (a host's daemon) and the
 * coordinator's all-in-one local node (`apps/coordinator/src/local-node.ts`) both start it from
 * here; nothing outside this library imports its folders (docs/adr/0010-node-daemon-library.md).
 */
export { startNodeAgent, DAEMON_VERSION, type NodeAgentHandle, type StartOptions } from './node-agent';
export { loadNodeConfig, nodeConfigSchema, type NodeConfig } from './config';
export {
  enrolIfConfigured,
  enrolWithCoordinator,
  enrolOnBoot,
  storeToken,
  hasStoredToken,
  tokenFile,
  EnrolmentError,
  type EnrolOptions,
  type EnrolOnBootOptions,
} from './enrol';
export { httpProbe, type ProbeResult } from './health/http-probe';
