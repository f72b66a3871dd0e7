export * from './manifest';
export * from './loader';
export * from './schemas';
