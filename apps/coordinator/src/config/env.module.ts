import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ENV } from './config.schema';

/** Provides the environment the app was created with (ENV) to every module. */
@Global()
@Module({})
export class EnvModule {
  static forRoot(env: NodeJS.ProcessEnv): DynamicModule {
    return { module: EnvModule, providers: [{ provide: ENV, useValue: env }], exports: [ENV] };
  }
}
