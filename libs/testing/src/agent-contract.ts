/**
 * The stand-ins' agent contracts (standin/contracts/<id>.js) run here too, without Docker, on a
 * rendered slot: the env, the command and the files the node daemon would write into the data
 * volume. A template that passes here gives the stand-in container exactly the same input, so the
 * fast check and the real-Docker tests cannot disagree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SlotDeploySpec } from '@berth/domain';

export interface ContractInput {
  env: Record<string, string>;
  /** The container's command (the arguments after the image's entrypoint). */
  argv: string[];
  /** Absolute path in the container -> content. */
  files: Record<string, string>;
}

export interface ContractVerdict {
  /** What the real program would refuse or get wrong; empty when the input is what it reads. */
  problems: string[];
  /** Where the real program would listen: '127.0.0.1' when the template left it on loopback. */
  host?: string;
}

type Contract = (input: {
  env: Record<string, string>;
  argv: string[];
  readConfig: (file: string) => unknown;
  home: string;
}) => ContractVerdict;

const contractsDir = path.join(__dirname, 'standin', 'contracts');

/** The agents that have a contract-enforcing stand-in. */
export function agentContracts(): string[] {
  return fs.readdirSync(contractsDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

/** Runs an agent's contract on an input, as the stand-in does at start. */
export function checkAgentContract(agentId: string, input: ContractInput): ContractVerdict {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS shared with the stand-in image
  const contract = require(path.join(contractsDir, `${agentId}.js`)) as Contract;
  const readConfig = (file: string) => {
    const content = input.files[path.posix.normalize(file)];
    if (content === undefined) return undefined;
    try {
      return JSON.parse(content);
    } catch (e) {
      return { __unparsable: (e as Error).message };
    }
  };
  const verdict = contract({ env: input.env, argv: input.argv, readConfig, home: input.env.HOME ?? '/' });
  return { problems: verdict.problems ?? [], host: verdict.host };
}

/** What the stand-in container of a rendered slot sees: its env, its command, its data volume's files. */
export function contractInputOf(spec: Pick<SlotDeploySpec, 'env' | 'command' | 'files' | 'dataMountPath'>, imageEnv: Record<string, string> = {}): ContractInput {
  const files: Record<string, string> = {};
  for (const f of spec.files ?? []) files[path.posix.join(spec.dataMountPath, f.path)] = f.content;
  return { env: { ...imageEnv, ...spec.env }, argv: spec.command ?? [], files };
}
