/**
 * Entry for `npm run images` (node -r @swc-node/register scripts/images/cli.ts): builds the image
 * of an agent that publishes none from its recipe, templates/agents/<id>/image/Dockerfile.
 *
 *   npm run images -- list
 *   npm run images -- build <agent> [--push <registry>/<repo>] [--tag <tag>] [--base-image <ref>]
 *
 * Build output goes to stderr as it happens; the result goes to stdout: the image id (or, after
 * --push, the digest reference to pin) and the admin API call that pins it. Push credentials come
 * from BERTH_REGISTRY_USERNAME / BERTH_REGISTRY_PASSWORD and are never printed.
 * Exit codes: 0 done, 1 the build or push failed, 2 a usage error (the message names the argument).
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { imageRefProblem, parseImageRef } from '@berth/domain';
import { buildFolder, pushImage, type RegistryCredentials } from './build';
import { RecipeError, findRecipe, listRecipes, type Recipe } from './recipes';

const USAGE = `usage:
  npm run images -- list
  npm run images -- build <agent> [--push <registry>/<repo>] [--tag <tag>] [--base-image <ref>]

  --push <registry>/<repo>  push to this repository (e.g. registry.example.com:5000/berth/nanobot)
                            with BERTH_REGISTRY_USERNAME / BERTH_REGISTRY_PASSWORD when set
  --tag <tag>               the tag, locally (berth/<agent>:<tag>) and pushed; default: the manifest's version
  --base-image <ref>        the recipe's BASE_IMAGE, pinned by tag or digest; default: the recipe's own`;

class UsageError extends Error {}

interface BuildCommand {
  recipe: Recipe;
  tag: string;
  baseImage: string;
  push?: { registry: string; repository: string; credentials?: RegistryCredentials };
}

/** A Docker tag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function pushTarget(value: string): { registry: string; repository: string } {
  const problem = imageRefProblem(value);
  if (problem) throw new UsageError(`--push '${value}' ${problem}`);
  const ref = parseImageRef(value);
  if (ref.tag !== undefined || ref.digest !== undefined)
    throw new UsageError(
      `--push '${value}': give the repository without a tag or digest (the tag comes from --tag)`,
    );
  if (!value.startsWith(`${ref.registry}/`))
    throw new UsageError(
      `--push '${value}': start with the registry host, e.g. registry.example.com:5000/${ref.repository}`,
    );
  return { registry: ref.registry, repository: value };
}

function registryCredentials(env: NodeJS.ProcessEnv): RegistryCredentials | undefined {
  const username = env.BERTH_REGISTRY_USERNAME;
  const password = env.BERTH_REGISTRY_PASSWORD;
  if (!username && !password) return undefined;
  if (!username || !password)
    throw new UsageError(
      `${username ? 'BERTH_REGISTRY_PASSWORD' : 'BERTH_REGISTRY_USERNAME'} is not set: set both registry credentials or neither`,
    );
  return { username, password };
}

function parseBuild(
  positionals: string[],
  values: { push?: string; tag?: string; 'base-image'?: string },
  env: NodeJS.ProcessEnv,
): BuildCommand {
  if (positionals.length === 0) throw new UsageError('build: name the agent, e.g. build nanobot');
  if (positionals.length > 1)
    throw new UsageError(`build: unexpected argument '${positionals[1]}' (one agent per build)`);
  const recipe = findRecipe(positionals[0]);
  const tag = values.tag ?? recipe.agent.version;
  if (!TAG.test(tag))
    throw new UsageError(`--tag '${tag}' is not a Docker tag (letters, digits, '_', '.', '-'; at most 128)`);
  if (tag === 'latest') throw new UsageError(`--tag 'latest': pin a version, the platform refuses :latest`);
  const baseImage = values['base-image'] ?? recipe.defaultBaseImage;
  const baseProblem = imageRefProblem(baseImage, { pinned: true });
  if (baseProblem) throw new UsageError(`--base-image '${baseImage}' ${baseProblem}`);
  const push =
    values.push === undefined
      ? undefined
      : { ...pushTarget(values.push), credentials: registryCredentials(env) };
  return { recipe, tag, baseImage, push };
}

function parseCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { list: true } | { help: true } | BuildCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        push: { type: 'string' },
        tag: { type: 'string' },
        'base-image': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { help: true };
  if (command === 'list') {
    const extra = rest[0] ?? Object.keys(values).map((k) => `--${k}`)[0];
    if (extra) throw new UsageError(`list: unexpected argument '${extra}'`);
    return { list: true };
  }
  if (command === 'build') return parseBuild(rest, values, env);
  throw new UsageError(
    command === undefined
      ? 'name a command: build or list'
      : `unknown command '${command}' (commands: build, list)`,
  );
}

function printList(out: NodeJS.WritableStream): void {
  const rows = listRecipes().map((r) => [
    r.agent.id,
    r.agent.version,
    r.defaultTag,
    `FROM ${r.defaultBaseImage}`,
  ]);
  if (rows.length === 0) out.write('no agent has an image recipe (templates/agents/<id>/image/Dockerfile)\n');
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i].length))) ?? [];
  for (const row of rows) {
    const text = row.map((cell, i) => cell.padEnd(widths[i])).join('  ');
    out.write(`${text.trimEnd()}\n`);
  }
}

async function engine(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `cannot reach the Docker engine (DOCKER_HOST or /var/run/docker.sock): ${(e as Error).message}`,
      { cause: e },
    );
  }
  return docker;
}

async function build(cmd: BuildCommand, docker: Docker): Promise<void> {
  const { recipe, tag, baseImage, push } = cmd;
  const local = `berth/${recipe.agent.id}:${tag}`;
  process.stderr.write(
    `building ${local} from ${relative(process.cwd(), recipe.dir)} (FROM ${baseImage}, VERSION=${recipe.agent.version})\n`,
  );
  const registryConfig = push?.credentials ? { [push.registry]: push.credentials } : undefined;
  let imageId: string;
  try {
    imageId = await buildFolder(
      docker,
      recipe.dir,
      { tag: local, buildargs: { BASE_IMAGE: baseImage, VERSION: recipe.agent.version }, registryConfig },
      process.stderr,
    );
  } catch (e) {
    throw new Error(`build of ${local} failed: ${(e as Error).message}`, { cause: e });
  }
  process.stdout.write(`built ${local}\nimage id: ${imageId}\n`);
  let pin = local;
  if (push) {
    process.stderr.write(
      `pushing ${push.repository}:${tag}${push.credentials ? ` as ${push.credentials.username}` : ' without credentials'}\n`,
    );
    let digest: string;
    try {
      digest = await pushImage(docker, local, { ...push, tag }, push.credentials, process.stderr);
    } catch (e) {
      const message = (e as Error).message;
      const hint = /unauthori[sz]ed|authentication required|denied/i.test(message)
        ? ' (the registry refused: check BERTH_REGISTRY_USERNAME / BERTH_REGISTRY_PASSWORD)'
        : '';
      throw new Error(`push of ${push.repository}:${tag} failed: ${message}${hint}`, { cause: e });
    }
    pin = `${push.repository}@${digest}`;
    process.stdout.write(`pushed ${push.repository}:${tag}\ndigest: ${pin}\n`);
  } else {
    process.stdout.write(
      `(only on this Docker engine: --push <registry>/<repo> to get a digest every node can pull)\n`,
    );
  }
  process.stdout.write(
    `pin it:\nPATCH /api/admin/agent-types/${recipe.agent.id} ${JSON.stringify({ base_image: pin })}\n`,
  );
}

async function main(argv: string[]): Promise<number> {
  try {
    const cmd = parseCommand(argv);
    if ('help' in cmd) process.stdout.write(`${USAGE}\n`);
    else if ('list' in cmd) printList(process.stdout);
    else await build(cmd, await engine());
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) process.stderr.write(`images: ${message}\n\n${USAGE}\n`);
    else process.stderr.write(`images: ${message}\n`);
    return e instanceof UsageError || e instanceof RecipeError ? 2 : 1;
  }
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
