export * from './errors';
export * from './deploy-spec';
export * from './deploy-spec.policy';
export * from './image-ref';
