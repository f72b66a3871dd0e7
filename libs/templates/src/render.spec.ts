import YAML from 'yaml';
import { InvalidArgumentError } from '@berth/domain';
import { compileTemplate, toYamlLiteral, MAX_VALUE_LENGTH } from './render';

describe('toYamlLiteral', () => {
  const nasty = [
    'plain',
    '',
    'line1\nline2',
    'a"b',
    "a'b",
    'x}}y{{z',
    'key: value',
    'a # comment',
    'privileged: true',
    '\n    privileged: true',
    '&anchor',
    '*alias',
    '!!binary aGVsbG8=',
    '- item',
    '? key',
    '|\n  block',
    'tab\there',
    'carriage\rreturn',
    'ls\u2028ps\u2029nel\u0085',
    'bom\ufeffdel\u007f',
    'nul\u0000bell\u0007',
    'emoji 😀 ünïcödé',
    '${HOME} $$ $(id)',
    'null',
    'true',
    '0x1F',
    '1e3',
    '~',
    '%TAG ! tag:x',
    '---\nservices: {}',
    '...',
    '\\"escaped\\"',
  ];
  it.each(nasty)('%j round-trips as the same string through YAML and JSON', (s) => {
    const lit = toYamlLiteral(s);
    expect(lit).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
    expect(YAML.parse(`k: ${lit}`)).toEqual({ k: s });
    expect(JSON.parse(lit)).toBe(s);
  });

  it('keeps numbers, booleans and null typed, and encodes collections as flow', () => {
    expect(YAML.parse(`k: ${toYamlLiteral({ a: [1, true, null, 'x: y'], 'b\nc': 2 })}`)).toEqual({ k: { a: [1, true, null, 'x: y'], 'b\nc': 2 } });
    expect(toYamlLiteral(undefined)).toBe('null');
    expect(toYamlLiteral(8080)).toBe('8080');
  });

  it('refuses lone surrogates, non-finite numbers, functions and over-long values', () => {
    expect(() => toYamlLiteral('a\ud800b')).toThrow(InvalidArgumentError);
    expect(() => toYamlLiteral(Infinity)).toThrow(InvalidArgumentError);
    expect(() => toYamlLiteral(() => 1)).toThrow(InvalidArgumentError);
    expect(() => toYamlLiteral('x'.repeat(MAX_VALUE_LENGTH + 1))).toThrow(/longer than/);
    expect(() => toYamlLiteral(new Date())).toThrow(InvalidArgumentError);
  });
});

describe('compileTemplate', () => {
  it('renders values as literals and keeps block helpers working', () => {
    const t = compileTemplate('t', 'a: {{x}}\nb: [{{str n}}, {{concat "p-" n}}]\n{{#if y}}\nc: {{y}}\n{{/if}}\nd:\n{{#each list}}\n  - {{this}}\n{{/each}}\n');
    const out = t.render({ x: 'he"llo\n  privileged: true', n: 5, y: '', list: ['a', 1] });
    expect(YAML.parse(out)).toEqual({ a: 'he"llo\n  privileged: true', b: ['5', 'p-5'], d: ['a', 1] });
  });

  it('encodes values inside {{#if}} / {{#each}} / {{#with}} bodies too (child programs)', () => {
    const t = compileTemplate('t', '{{#if x}}\na: {{x}}\n{{/if}}\nb:\n{{#each l}}\n  - {{this}}\n{{/each}}\n{{#with o}}\nc: {{k}}\n{{/with}}\n');
    const v = '`<x>`\n  privileged: true';
    expect(YAML.parse(t.render({ x: v, l: [v], o: { k: v } }))).toEqual({ a: v, b: [v], c: v });
  });

  it('does not HTML-escape (our encoder replaces Handlebars escaping, only in our environment)', () => {
    expect(compileTemplate('t', 'a: {{x}}\n').render({ x: '<&>' })).toBe('a: "<&>"\n');
  });

  it.each([
    ['triple-stash', 'a: {{{x}}}\n', /triple-stash/],
    ['ampersand', 'a: {{& x}}\n', /triple-stash/],
    ['quoted by the template', 'a: "{{x}}"\n', /whole scalar/],
    ['single-quoted', "a: '{{x}}'\n", /whole scalar/],
    ['glued before', 'a: prefix-{{x}}\n', /whole scalar/],
    ['glued after', 'a: {{x}}-suffix\n', /whole scalar/],
    ['inside a plain scalar', 'a: {{x}} more\n', /whole scalar/],
    ['seed-style short port', '- "{{a}}:{{b}}"\n', /whole scalar/],
    ['partial', 'a: {{> p}}\n', /PartialStatement/],
    ['unknown helper', 'a: {{lookup x "y"}}\n', /unknown helper 'lookup'/],
    ['unknown block helper', '{{#custom x}}\na: 1\n{{/custom}}\n', /block helper 'custom'/],
    ['inline block', 'a: {{#if x}}1{{/if}}\n', /alone on its line/],
    ['decorator', '{{* deco}}\n', /not allowed|Decorator/],
    ['unknown subexpression helper', 'a: {{str (lookup x "y")}}\n', /unknown helper 'lookup'/],
  ])('refuses %s', (_name, src, message) => {
    expect(() => compileTemplate('t', src)).toThrow(message);
  });

  it('lists every problem at once', () => {
    try {
      compileTemplate('t', 'a: {{{x}}}\nb: "{{y}}"\n');
      throw new Error('not refused');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).fields?.template).toHaveLength(2);
    }
  });

  it('accepts keys, flow items and values followed by comments', () => {
    const t = compileTemplate('t', '{{k}}: {{v}} # note\nl: [{{v}}, {{v}}]\nm: {x: {{v}} }\n');
    expect(YAML.parse(t.render({ k: 'K: x', v: '# v' }))).toEqual({ 'K: x': '# v', l: ['# v', '# v'], m: { x: '# v' } });
  });
});
