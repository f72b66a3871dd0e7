import { ConfigError } from '@berth/config';
import { loadCustomImagesConfig } from './custom-images.config';
import { takesCustomerImage } from './customer-image-agents';

describe('custom images: the operator settings', () => {
  it('defaults: the big public registries, 2 GiB', () => {
    expect(loadCustomImagesConfig({})).toEqual({ BERTH_CUSTOM_IMAGE_REGISTRIES: ['docker.io', 'ghcr.io', 'quay.io'], BERTH_CUSTOM_IMAGE_MAX_BYTES: 2 * 1024 ** 3 });
  });

  it('reads host[:port] lists (Docker Hub under any of its names) and sizes; empty turns custom images off', () => {
    const c = loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_REGISTRIES: ' registry.example.com:5000, Index.Docker.IO ,,ghcr.io', BERTH_CUSTOM_IMAGE_MAX_BYTES: '750MiB' });
    expect(c).toEqual({ BERTH_CUSTOM_IMAGE_REGISTRIES: ['registry.example.com:5000', 'docker.io', 'ghcr.io'], BERTH_CUSTOM_IMAGE_MAX_BYTES: 750 * 1024 ** 2 });
    expect(loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_REGISTRIES: '' }).BERTH_CUSTOM_IMAGE_REGISTRIES).toEqual([]);
    expect(loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_MAX_BYTES: '123456789' }).BERTH_CUSTOM_IMAGE_MAX_BYTES).toBe(123456789);
  });

  it('a bad value stops the boot naming the variable', () => {
    expect(() => loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_REGISTRIES: 'https://ghcr.io/' })).toThrow(ConfigError);
    expect(() => loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_REGISTRIES: 'ghcr.io/team' })).toThrow(/BERTH_CUSTOM_IMAGE_REGISTRIES: must be registry hosts/);
    expect(() => loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_MAX_BYTES: 'big' })).toThrow(/BERTH_CUSTOM_IMAGE_MAX_BYTES: must be a size/);
    expect(() => loadCustomImagesConfig({ BERTH_CUSTOM_IMAGE_MAX_BYTES: '10KiB' })).toThrow(/at least 1MiB/);
  });

  it('an agent type takes its customers\' image when its template.json names image_from_config', () => {
    const files = (options?: string) => ({ compose: 'services: {}', ...(options === undefined ? {} : { options }) });
    expect(takesCustomerImage({ id: 'x', template_files: files('{"image_from_config": "image"}') }, '/nowhere')).toBe(true);
    expect(takesCustomerImage({ id: 'x', template_files: files('{"default_models": {}}') }, '/nowhere')).toBe(false);
    expect(takesCustomerImage({ id: 'x', template_files: files() }, '/nowhere')).toBe(false);
    expect(takesCustomerImage({ id: 'x', template_files: files('not json') }, '/nowhere')).toBe(false);
    // A row written before rows carried their files: the templates folder says.
    const dir = `${__dirname}/../../../../templates`;
    expect(takesCustomerImage({ id: 'custom', template_files: null }, dir)).toBe(true);
    expect(takesCustomerImage({ id: 'myrai', template_files: null }, dir)).toBe(false);
  });
});
