import { Injectable } from '@nestjs/common';
import { callerOrganization } from '../../auth/caller';
import { ScheduleStore } from '../schedule-store';
import { scheduleNotFound } from '../list-schedules/list-schedules.use-case';

/** DELETE /v1/agents/{agent_id}/schedule/{id}: once answered, the schedule never fires again. */
@Injectable()
export class DeleteScheduleUseCase {
  constructor(private readonly store: ScheduleStore) {}

  async execute(agentId: string, id: string): Promise<{ success: true }> {
    if (!(await this.store.delete(callerOrganization(), agentId, id))) throw scheduleNotFound(id);
    return { success: true };
  }
}
