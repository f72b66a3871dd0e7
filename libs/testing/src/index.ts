export * from './standin-image';
export * from './docker-env';
