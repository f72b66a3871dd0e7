export * from './errors';
export * from './deploy-spec';
