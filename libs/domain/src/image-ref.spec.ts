import { InvalidArgumentError } from './errors';
import { imageRefProblem, isPinned, parseImageRef } from './image-ref';

const sha = (c: string) => `sha256:${c.repeat(64)}`;

describe('image references (Docker grammar)', () => {
  it('takes a registry host with a port, tags and digests', () => {
    expect(parseImageRef('127.0.0.1:5000/team/agent:1.2')).toEqual({ registry: '127.0.0.1:5000', repository: 'team/agent', tag: '1.2' });
    expect(parseImageRef(`ghcr.io/gmsas95/myrai@${sha('a')}`)).toEqual({ registry: 'ghcr.io', repository: 'gmsas95/myrai', digest: sha('a') });
    expect(parseImageRef(`localhost:5000/a:1.0@${sha('b')}`)).toEqual({ registry: 'localhost:5000', repository: 'a', tag: '1.0', digest: sha('b') });
  });

  it('expands familiar names to Docker Hub', () => {
    expect(parseImageRef('alpine:3.20')).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: '3.20' });
    expect(parseImageRef('someone/agent:2')).toEqual({ registry: 'docker.io', repository: 'someone/agent', tag: '2' });
  });

  it('refuses what Docker refuses, with the reason', () => {
    for (const bad of ['Team/Agent:1', 'host:port/x:1', 'a b', 'x:', `x@sha256:${'z'.repeat(64)}`, '', 'a'.repeat(256)]) {
      expect(imageRefProblem(bad)).not.toBeNull();
      expect(() => parseImageRef(bad)).toThrow(InvalidArgumentError);
    }
    expect(imageRefProblem('Team/Agent:1')).toMatch(/lowercase/);
  });

  it('calls a reference pinned only with a digest or a tag other than latest', () => {
    expect(isPinned(parseImageRef('a:1'))).toBe(true);
    expect(isPinned(parseImageRef(`a@${sha('c')}`))).toBe(true);
    expect(isPinned(parseImageRef('a'))).toBe(false);
    expect(isPinned(parseImageRef('a:latest'))).toBe(false);
    expect(imageRefProblem('127.0.0.1:5000/a:latest', { pinned: true })).toBe('must pin a tag or a digest (not :latest)');
    expect(imageRefProblem('127.0.0.1:5000/a', { pinned: true })).toBe('must pin a tag or a digest (not :latest)');
    expect(imageRefProblem('127.0.0.1:5000/a:1', { pinned: true })).toBeNull();
  });
});
