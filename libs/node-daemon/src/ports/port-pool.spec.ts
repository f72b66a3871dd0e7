import * as net from 'node:net';
import { CapacityExhaustedError } from '@berth/domain';
import { PortPool } from './port-pool';

describe('PortPool', () => {
  it('never hands out a port twice, also concurrently', async () => {
    const pool = new PortPool(41000, 41019, '127.0.0.1', async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      return true;
    });
    const all = (await Promise.all(Array.from({ length: 10 }, (_, i) => pool.allocate(2, `s${i}`)))).flat();
    expect(new Set(all).size).toBe(20);
    expect(pool.free).toBe(0);
    await expect(pool.allocate(1, 'x')).rejects.toBeInstanceOf(CapacityExhaustedError);
  });

  it('returns ports on release and a failed allocation keeps nothing', async () => {
    const pool = new PortPool(41000, 41002, '127.0.0.1', async () => true);
    const a = await pool.allocate(2, 'a');
    await expect(pool.allocate(2, 'b')).rejects.toBeInstanceOf(CapacityExhaustedError);
    expect(pool.free).toBe(1);
    pool.release(a, 'a');
    expect(pool.free).toBe(3);
    expect(await pool.allocate(3, 'c')).toHaveLength(3);
  });

  it('skips a port held by another process on the host (real bind)', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const held = (holder.address() as net.AddressInfo).port;
    try {
      const pool = new PortPool(held, held + 1, '127.0.0.1');
      const [p] = await pool.allocate(1, 'a');
      expect(p).toBe(held + 1);
      await expect(pool.allocate(1, 'b')).rejects.toBeInstanceOf(CapacityExhaustedError);
    } finally {
      holder.close();
    }
  });

  it('rebuilds from adopted containers', async () => {
    const pool = new PortPool(41000, 41001, '127.0.0.1', async () => true);
    pool.markUsed(41000, 'adopted');
    expect(await pool.allocate(1, 'new')).toEqual([41001]);
  });
});
