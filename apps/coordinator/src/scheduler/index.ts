export * from './placement';
export * from './placement.service';
export * from './scheduler.config';
export * from './scheduler.module';
