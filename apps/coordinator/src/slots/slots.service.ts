import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@berth/domain';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SlotsRepository } from './slots.repository';
import { slotView } from './slots.view';

@Injectable()
export class SlotsService {
  constructor(
    private readonly slots: SlotsRepository,
    private readonly secrets: SecretsRepository,
  ) {}

  async getForCustomer(customerId: string, slotId: string) {
    const s = await this.slots.findForCustomer(customerId, slotId);
    if (!s) throw new NotFoundError('slot not found');
    return slotView(s, await this.secrets.hintsForSlot(customerId, s.id));
  }

  async listForCustomer(customerId: string) {
    const list = await this.slots.listForCustomer(customerId);
    return Promise.all(list.map(async (s) => slotView(s, await this.secrets.hintsForSlot(customerId, s.id))));
  }
}
