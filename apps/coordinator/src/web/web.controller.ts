import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { NotFoundError } from '@berth/domain';
import { SECURITY_HEADERS, type Asset } from './web-assets';

export const WEB_ASSETS = Symbol('web-assets');

/** The customer web UI: index.html at `/`, the rest under `/assets/<allow-listed name>`. */
@ApiExcludeController()
@Controller()
export class WebController {
  constructor(@Inject(WEB_ASSETS) private readonly assets: Map<string, Asset>) {}

  @Get()
  index(@Res() res: Response) {
    this.send(res, 'index.html', 'no-cache');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response) {
    // Only exact names from the allow-list; index.html is served at / only.
    if (file === 'index.html' || !this.assets.has(file)) throw new NotFoundError('no such asset');
    this.send(res, file, 'no-cache');
  }

  private send(res: Response, name: string, cache: string) {
    const a = this.assets.get(name);
    if (!a) throw new NotFoundError('no such asset');
    res.status(200);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Type', a.contentType);
    res.setHeader('Cache-Control', cache);
    res.setHeader('Content-Length', a.body.length);
    res.end(a.body);
  }
}
