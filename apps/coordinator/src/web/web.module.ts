import { Module } from '@nestjs/common';
import { loadAssets } from './web-assets';
import { WebController, WEB_ASSETS } from './web.controller';

/** Serves the customer web UI (static files under ./static, see web-assets.ts). */
@Module({
  controllers: [WebController],
  providers: [{ provide: WEB_ASSETS, useFactory: () => loadAssets() }],
})
export class WebModule {}
