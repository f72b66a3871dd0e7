/**
 * Safe rendering of compose (YAML) and config (JSON) templates with Handlebars.
 *
 * The rule (docs/adr/0004-templates.md): every `{{value}}` is emitted as one complete
 * YAML/JSON literal. Strings become double-quoted scalars with every character that could
 * end the scalar or the line escaped, numbers and booleans stay plain, absent values become
 * `null`, arrays and objects become JSON flow collections. A value therefore can never add a
 * key, a list item, an anchor, a comment or a line: it is data wherever it lands.
 *
 * This is enforced in two places:
 * - at compile time the template is checked: no triple-stash `{{{ }}}` or `{{& }}`, no
 *   partials or decorators, only the block helpers if/unless/each/with and our own helpers,
 *   block tags alone on their line, and every `{{value}}` standing as a whole scalar
 *   (a template never quotes a value or glues text to it; use the `concat` helper);
 * - at render time Handlebars' escape step is replaced, for our own Handlebars environment
 *   only, by `toYamlLiteral`.
 */
import Handlebars from 'handlebars';
import { InvalidArgumentError } from '@berth/domain';

/** Longest string value accepted in a template value (a config string, a key...). */
export const MAX_VALUE_LENGTH = 64 * 1024;
/** Largest rendered document. */
export const MAX_RENDERED_LENGTH = 1024 * 1024;

const ESCAPE_HELPER = '__berthLiteral';
const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const VALUE_HELPERS = new Set(['str', 'concat', 'or', 'lower', 'upper']);

/**
 * Characters that are escaped inside a double-quoted scalar on top of what JSON escapes:
 * everything outside printable ASCII that a YAML or JSON reader could treat as a line break
 * or refuse (C1 controls incl. NEL, DEL, LS/PS, BOM, non-characters), so the output is the
 * same for js-yaml, go-yaml (docker compose) and JSON readers.
 */
const EXTRA_ESCAPES = /[\u007f-\u009f\u00ad\u2028\u2029\ufeff\ufff0-\uffff]/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function quoteString(s: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw new InvalidArgumentError('a value contains invalid unicode (a lone surrogate)');
  }
  if (s.length > MAX_VALUE_LENGTH) {
    throw new InvalidArgumentError(`a value is longer than ${MAX_VALUE_LENGTH} characters`);
  }
  return JSON.stringify(s).replace(EXTRA_ESCAPES, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** One complete YAML (and JSON) literal for a value. */
export function toYamlLiteral(value: unknown, depth = 0): string {
  if (depth > 20) throw new InvalidArgumentError('a value is nested too deeply');
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError('a number value is not finite');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return '[' + value.map((v) => toYamlLiteral(v, depth + 1)).join(', ') + ']';
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${quoteString(k)}: ${toYamlLiteral(v, depth + 1)}`,
    );
    return '{' + entries.join(', ') + '}';
  }
  throw new InvalidArgumentError(`a value of type ${typeof value} cannot be rendered`);
}

type Hb = typeof Handlebars;

function createEnvironment(): Hb {
  const hb = Handlebars.create();
  // Our own JavaScriptCompiler subclass: an escaped mustache calls our literal encoder
  // instead of the global Utils.escapeExpression (HTML escaping). Scoped to this environment.
  const Base = (hb as unknown as { JavaScriptCompiler: new () => object }).JavaScriptCompiler;
  class LiteralCompiler extends (Base as new () => Record<string, unknown>) {}
  (LiteralCompiler.prototype as Record<string, unknown>).appendEscaped = function appendEscaped(this: {
    pushSource(s: unknown): void;
    appendToBuffer(parts: unknown[]): unknown;
    aliasable(name: string): unknown;
    popStack(): unknown;
  }) {
    // Registered helpers are wrapped by Handlebars and expect an options object last.
    this.pushSource(this.appendToBuffer([this.aliasable(`helpers.${ESCAPE_HELPER}`), '(', this.popStack(), ', {})']));
  };
  // Child programs ({{#if}} / {{#each}} bodies) are compiled by `new this.compiler()`:
  // without this they would fall back to the stock compiler and HTML escaping.
  (LiteralCompiler.prototype as Record<string, unknown>).compiler = LiteralCompiler;
  (hb as unknown as { JavaScriptCompiler: unknown }).JavaScriptCompiler = LiteralCompiler;

  hb.registerHelper(ESCAPE_HELPER, (v: unknown) => toYamlLiteral(v));
  // Value helpers return plain values; the result goes through the encoder like any value.
  hb.registerHelper('str', (v: unknown) => (v === undefined || v === null ? v : String(v)));
  hb.registerHelper('concat', (...args: unknown[]) =>
    args
      .slice(0, -1)
      .map((a) => (a === undefined || a === null ? '' : String(a)))
      .join(''),
  );
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).find((a) => a !== undefined && a !== null && a !== ''));
  hb.registerHelper('lower', (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  hb.registerHelper('upper', (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v));
  return hb;
}

const hb = createEnvironment();

export type TemplateKind = 'yaml' | 'json';

export interface CompiledTemplate {
  /** Name for messages, e.g. 'openclaw/compose.yaml.hbs'. */
  readonly name: string;
  readonly kind: TemplateKind;
  readonly source: string;
  render(values: object): string;
}

interface Loc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}
interface Node {
  type: string;
  loc: Loc;
  path?: { type: string; original?: unknown; parts?: string[] };
  params?: Node[];
  hash?: { pairs: { value: Node }[] };
  escaped?: boolean;
  program?: { body: Node[] };
  inverse?: { body: Node[] };
  body?: Node[];
}

// A value may follow: start of line (a key), '- ' (a list item), ': ' (a mapping value),
// '[' / '{' / ', ' inside a flow collection, or '? ' (explicit key).
const BEFORE_OK = /(^\s*|^\s*(- )+|[:[{,?]\s*)$/;
// and be followed by: end of line, ':' (it was a key), ',' ']' '}' (flow), or a comment.
const AFTER_OK = /^(\s*$|\s*[:,\]}]|\s+#)/;

function lint(name: string, source: string, ast: { body: Node[] }): string[] {
  const problems: string[] = [];
  const lines = source.split('\n');
  const at = (n: Node) => `${name}:${n.loc.start.line}`;
  const pathName = (n: Node) => (n.path && n.path.type === 'PathExpression' ? String(n.path.original) : '');

  const checkParams = (n: Node) => {
    for (const p of [...(n.params ?? []), ...(n.hash?.pairs.map((x) => x.value) ?? [])]) {
      if (p.type === 'SubExpression') {
        if (!VALUE_HELPERS.has(pathName(p))) problems.push(`${at(n)}: unknown helper '${pathName(p)}'`);
        checkParams(p);
      }
    }
  };

  const visit = (nodes: Node[]) => {
    for (const n of nodes) {
      switch (n.type) {
        case 'ContentStatement':
        case 'CommentStatement':
          break;
        case 'MustacheStatement': {
          if (!n.escaped) {
            problems.push(`${at(n)}: triple-stash {{{ }}} / {{& }} is not allowed (it would paste a value unencoded)`);
            break;
          }
          const helper = pathName(n);
          if ((n.params?.length ?? 0) > 0 || (n.hash?.pairs.length ?? 0) > 0) {
            if (!VALUE_HELPERS.has(helper)) problems.push(`${at(n)}: unknown helper '${helper}'`);
          }
          checkParams(n);
          if (n.loc.start.line !== n.loc.end.line) {
            problems.push(`${at(n)}: a {{value}} must stay on one line`);
            break;
          }
          const line = lines[n.loc.start.line - 1] ?? '';
          const before = line.slice(0, n.loc.start.column);
          const after = line.slice(n.loc.end.column);
          if (!BEFORE_OK.test(before) || !AFTER_OK.test(after) || /["']\s*$/.test(before) || /^["']/.test(after)) {
            problems.push(
              `${at(n)}: {{${helper}}} must be a whole scalar (a key, a value or a flow item): never quoted or glued to text; use (concat ...)`,
            );
          }
          break;
        }
        case 'BlockStatement': {
          const helper = pathName(n);
          if (!BLOCK_HELPERS.has(helper)) problems.push(`${at(n)}: block helper '${helper}' is not allowed`);
          checkParams(n);
          for (const ln of [n.loc.start.line, n.loc.end.line]) {
            const text = (lines[ln - 1] ?? '').trim();
            if (!/^\{\{[^{}]*\}\}$/.test(text) && !/^\{\{~?[#/^][^{}]*\}\}$/.test(text)) {
              problems.push(`${name}:${ln}: a block tag ({{#${helper}}} / {{/${helper}}} / {{else}}) must be alone on its line`);
            }
          }
          visit(n.program?.body ?? []);
          visit(n.inverse?.body ?? []);
          break;
        }
        default:
          problems.push(`${at(n)}: ${n.type} is not allowed in a template`);
      }
    }
  };
  visit(ast.body);
  return problems;
}

/**
 * Compile a template after checking it follows the safety rule. Throws InvalidArgumentError
 * listing every problem (a broken shipped template is caught by its tests and at load).
 */
export function compileTemplate(name: string, source: string, kind: TemplateKind = 'yaml'): CompiledTemplate {
  let ast: { body: Node[] };
  try {
    ast = hb.parse(source) as unknown as { body: Node[] };
  } catch (e) {
    throw new InvalidArgumentError(`${name}: not a valid Handlebars template: ${(e as Error).message}`);
  }
  const problems = lint(name, source, ast);
  if (problems.length > 0) {
    throw new InvalidArgumentError(`${name}: unsafe template: ${problems.join('; ')}`, { template: problems });
  }
  const fn = hb.compile(source, {
    knownHelpers: Object.fromEntries([...VALUE_HELPERS, ...BLOCK_HELPERS, ESCAPE_HELPER].map((h) => [h, true])),
    knownHelpersOnly: true,
    noEscape: false,
    strict: false,
    preventIndent: true,
  });
  return {
    name,
    kind,
    source,
    render(values: object): string {
      const out = fn(values, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
      if (out.length > MAX_RENDERED_LENGTH) {
        throw new InvalidArgumentError(`${name}: the rendered document is larger than ${MAX_RENDERED_LENGTH} bytes`);
      }
      return out;
    },
  };
}
