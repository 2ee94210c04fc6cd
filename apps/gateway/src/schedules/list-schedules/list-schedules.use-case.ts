import { Injectable, NotFoundException } from '@nestjs/common';
import { AgentStore } from '@lrs/read-model';
import { callerOrganization } from '../../auth/caller';
import { ScheduleStore } from '../schedule-store';
import { scheduledMessageView } from '../schedule-views';

export const scheduleNotFound = (id: string) => new NotFoundException({ detail: `Scheduled message ${id} not found` });

/** GET /v1/agents/{agent_id}/schedule (paged, oldest first) and GET .../schedule/{id}. */
@Injectable()
export class ListSchedulesUseCase {
  constructor(
    private readonly store: ScheduleStore,
    private readonly agents: AgentStore,
  ) {}

  async list(agentId: string, after: string | null, limit: number) {
    const organizationId = callerOrganization();
    if (!(await this.agents.exists(organizationId, agentId))) throw new NotFoundException({ detail: 'Agent not found' });
    const page = await this.store.list(organizationId, agentId, after, limit);
    return { has_next_page: page.hasNextPage, scheduled_messages: page.items.map(scheduledMessageView) };
  }

  async retrieve(agentId: string, id: string) {
    const record = await this.store.find(callerOrganization(), agentId, id);
    if (!record) throw scheduleNotFound(id);
    return scheduledMessageView(record);
  }
}
