export * from './standin-image';
export * from './docker-env';
export * from './docker-proxy';
export * from './wait';
export * from './registry';
export * from './agent-contract';
export * from './real-openclaw';
