import { missingAddons, monthlyPrice, requiredAddons, slotResources } from './plan';

describe('plan', () => {
  const openclaw = { min_memory: '1024M', min_cpu: '0.25' };
  const myrai = { min_memory: '512M', min_cpu: '0.25' };
  const none = { memory: false, cpu: false, priority_support: false };

  it('prices the seed plan and add-ons', () => {
    expect(monthlyPrice(none)).toBe(29);
    expect(monthlyPrice({ memory: true, cpu: true, priority_support: true })).toBe(54);
    expect(slotResources({ ...none, memory: true })).toEqual({ memory_mb: 1024, cpu_millis: 250 });
  });

  it('OpenClaw needs the memory add-on; Myrai fits the base plan', () => {
    expect(requiredAddons(openclaw)).toEqual(['memory']);
    expect(requiredAddons(myrai)).toEqual([]);
    expect(missingAddons(openclaw, none)).toEqual(['memory']);
    expect(missingAddons(openclaw, { ...none, memory: true })).toEqual([]);
    expect(missingAddons({ min_memory: '2G', min_cpu: '1' }, { memory: true, cpu: true, priority_support: false })).toEqual(['memory', 'cpu']);
  });
});
