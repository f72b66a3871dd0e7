/**
 * Image recipes: `templates/agents/<id>/image/Dockerfile` for the agents that publish no image.
 * A recipe declares `ARG BASE_IMAGE=<pinned ref>` before its FROM and `ARG VERSION=<the
 * manifest's version>`; both are build arguments, so `--base-image` and the manifest's version
 * reach the build without editing the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadCatalogue, type AgentManifest } from '@berth/catalog';

export const TEMPLATES_DIR = join(__dirname, '..', '..', 'templates');

export interface Recipe {
  agent: AgentManifest;
  /** The build context: templates/agents/<id>/image. */
  dir: string;
  /** The Dockerfile's `ARG BASE_IMAGE` default. */
  defaultBaseImage: string;
  /** berth/<id>:<version>, the tag when none is given. */
  defaultTag: string;
}

/** A problem the operator can fix by changing the command or the recipe; the message says which. */
export class RecipeError extends Error {}

const shown = (file: string) => relative(process.cwd(), file) || file;

function argDefault(dockerfile: string, name: string): string | undefined {
  return new RegExp(`^ARG ${name}=(\\S+)\\s*$`, 'm').exec(dockerfile)?.[1];
}

function readRecipe(agent: AgentManifest, templatesDir: string): Recipe {
  const dir = join(templatesDir, 'agents', agent.id, 'image');
  const file = join(dir, 'Dockerfile');
  const text = readFileSync(file, 'utf8');
  const version = argDefault(text, 'VERSION');
  const baseImage = argDefault(text, 'BASE_IMAGE');
  const problems = [
    ...(baseImage ? [] : ['declare ARG BASE_IMAGE=<pinned image> before FROM ${BASE_IMAGE}']),
    ...(version === agent.version
      ? []
      : [`ARG VERSION=${version ?? '(missing)'} must equal the manifest's version ${agent.version}`]),
  ];
  if (problems.length) throw new RecipeError(`${shown(file)}: ${problems.join('; ')}`);
  return { agent, dir, defaultBaseImage: baseImage!, defaultTag: `berth/${agent.id}:${agent.version}` };
}

/** Every agent of the catalogue that has a recipe, by id. */
export function listRecipes(templatesDir = TEMPLATES_DIR): Recipe[] {
  return loadCatalogue(templatesDir)
    .agents.filter((a) => existsSync(join(templatesDir, 'agents', a.id, 'image', 'Dockerfile')))
    .map((a) => readRecipe(a, templatesDir));
}

/** The recipe for one agent; an unknown agent or one without a recipe is a RecipeError. */
export function findRecipe(agentId: string, templatesDir = TEMPLATES_DIR): Recipe {
  const { agents } = loadCatalogue(templatesDir);
  const agent = agents.find((a) => a.id === agentId);
  if (!agent)
    throw new RecipeError(
      `unknown agent '${agentId}' (the catalogue has: ${agents.map((a) => a.id).join(', ')})`,
    );
  const file = join(templatesDir, 'agents', agentId, 'image', 'Dockerfile');
  if (!existsSync(file)) {
    const have = listRecipes(templatesDir).map((r) => r.agent.id);
    throw new RecipeError(
      `agent '${agentId}' has no image recipe (${shown(file)}): it uses the published image ${agent.base_image}. ` +
        `Agents with a recipe: ${have.join(', ') || 'none'}`,
    );
  }
  return readRecipe(agent, templatesDir);
}
