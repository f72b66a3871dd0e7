import { Injectable } from '@nestjs/common';
import { Observable, Subject, filter } from 'rxjs';
import type { DeploymentEventView } from './deployment.types';

export interface BusMessage {
  deploymentId: string;
  event: DeploymentEventView;
  /** True on the deployment's last event. */
  finished: boolean;
}

/** Live deployment events inside this process, for server-sent events; the database has them all. */
@Injectable()
export class DeploymentBus {
  private readonly subject = new Subject<BusMessage>();

  publish(m: BusMessage): void {
    this.subject.next(m);
  }

  of(deploymentId: string): Observable<BusMessage> {
    return this.subject.pipe(filter((m) => m.deploymentId === deploymentId));
  }
}
