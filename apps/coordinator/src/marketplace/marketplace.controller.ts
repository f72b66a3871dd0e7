import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { MarketplaceService } from './marketplace.service';

@ApiTags('marketplace')
@Controller('api/marketplace')
export class MarketplaceController {
  constructor(private readonly marketplace: MarketplaceService) {}

  @Get('agents')
  agents() {
    return this.marketplace.agents();
  }

  @Get('llm-providers')
  providers() {
    return this.marketplace.providers();
  }

  @Get('stacks')
  stacks() {
    return this.marketplace.stacks();
  }
}
