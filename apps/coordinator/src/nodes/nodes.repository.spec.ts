/** NodesRepository against a real database (PGlite, or PostgreSQL when DATABASE_URL is set). */
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { decodeSealedToken, encodeSealedToken, NodesRepository } from './nodes.repository';

const sealed = { ciphertext: randomBytes(40), iv: randomBytes(12), tag: randomBytes(16), keyId: 'abcd1234' };

describe('NodesRepository', () => {
  let tdb: TestDatabase;
  let repo: NodesRepository;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    repo = new NodesRepository(tdb.db);
  });
  afterAll(() => tdb?.drop());

  const node = (name: string, memoryMb = 1000, cpuMillis = 1000) =>
    repo.create({ id: randomUUID(), name, address: '127.0.0.1:7443', certFingerprint: 'AA', sealedToken: sealed, allocatableMemoryMb: memoryMb, allocatableCpuMillis: cpuMillis });

  it('reserves only within allocatable, and only on an up node', async () => {
    const n = await node('r1');
    expect(await repo.reserve(n.id, 600, 100)).toBe(true);
    expect(await repo.reserve(n.id, 401, 100)).toBe(false);
    expect(await repo.reserve(n.id, 400, 901)).toBe(false);
    expect(await repo.reserve(n.id, 400, 900)).toBe(true);
    expect(await repo.get(n.id)).toMatchObject({ allocatedMemoryMb: 1000, allocatedCpuMillis: 1000 });
    await repo.release(n.id, 1000, 1000);
    await repo.setStatus(n.id, 'draining');
    expect(await repo.reserve(n.id, 1, 1)).toBe(false);
    await repo.setStatus(n.id, 'down');
    expect(await repo.reserve(n.id, 1, 1)).toBe(false);
    expect(await repo.reserve(randomUUID(), 1, 1)).toBe(false);
  });

  it('lets exactly one of many concurrent reservations take the last room', async () => {
    const n = await node('r2', 1024, 4000);
    const results = await Promise.all(Array.from({ length: 8 }, () => repo.reserve(n.id, 512, 100)));
    expect(results.filter(Boolean)).toHaveLength(2);
    expect((await repo.get(n.id))!.allocatedMemoryMb).toBe(1024);
  });

  it('never releases below zero, whatever the status', async () => {
    const n = await node('r3');
    await repo.reserve(n.id, 100, 100);
    await repo.setStatus(n.id, 'down');
    expect(await repo.release(n.id, 500, 50)).toBe(true);
    expect(await repo.get(n.id)).toMatchObject({ allocatedMemoryMb: 0, allocatedCpuMillis: 50 });
    await expect(repo.release(n.id, -1, 0)).rejects.toThrow(RangeError);
  });

  it('changes status only from the given statuses', async () => {
    const n = await node('r4');
    await repo.setStatus(n.id, 'draining');
    expect(await repo.setStatus(n.id, 'down', ['up'])).toBe(false);
    expect((await repo.get(n.id))!.status).toBe('draining');
    expect(await repo.setStatus(n.id, 'up', ['draining'])).toBe(true);
  });

  it('consumes a join token once, and not after it expires', async () => {
    const now = new Date();
    await repo.createJoinToken({ tokenHash: 'h1', expiresAt: new Date(now.getTime() + 60_000) });
    await repo.createJoinToken({ tokenHash: 'h2', expiresAt: new Date(now.getTime() - 1) });
    const mk = (name: string) => ({ id: randomUUID(), name, address: 'h:1', certFingerprint: 'AA', sealedToken: sealed, allocatableMemoryMb: 0, allocatableCpuMillis: 0 });
    const [a, b] = await Promise.all([repo.createWithJoinToken('h1', now, mk('j1')), repo.createWithJoinToken('h1', now, mk('j2'))].map((p) => p.catch(() => null)));
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect((await repo.findJoinToken('h1'))!.usedByNodeId).toBe((a ?? b)!.id);
    expect(await repo.createWithJoinToken('h2', now, mk('j3'))).toBeNull();
    expect(await repo.getByName('j3')).toBeNull();
  });

  it('keeps the sealed token out of the record and gives it back intact', async () => {
    const n = await node('r5');
    expect(JSON.stringify(n)).not.toContain(sealed.ciphertext.toString('base64'));
    expect(await repo.getSealedToken(n.id)).toEqual(sealed);
    expect(decodeSealedToken(encodeSealedToken(sealed))).toEqual(sealed);
    expect(decodeSealedToken('0123abcd')).toBeNull();
  });

  it('answers a slot count of 0 for a node without slots', async () => {
    const n = await node('r6');
    const list = await repo.listWithSlotCounts();
    expect(list.find((x) => x.id === n.id)!.slotCount).toBe(0);
  });
});
