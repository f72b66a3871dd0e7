import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Database } from './database';

export const DATABASE = Symbol('Database');

@Global()
@Module({})
export class DatabaseModule {
  static forDatabase(db: Database): DynamicModule {
    return { module: DatabaseModule, providers: [{ provide: DATABASE, useValue: db }], exports: [DATABASE] };
  }
}
