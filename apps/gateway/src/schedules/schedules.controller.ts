import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { LettaOperation } from '../http/api-docs';
import { AgentIdPipe, LettaIdPipe } from '../http/letta-id.pipe';
import { CreateScheduleDto } from './create-schedule/create-schedule.dto';
import { CreateScheduleUseCase } from './create-schedule/create-schedule.use-case';
import { ListSchedulesUseCase } from './list-schedules/list-schedules.use-case';
import { DeleteScheduleUseCase } from './delete-schedule/delete-schedule.use-case';

const ScheduleIdPipe = new LettaIdPipe('schedule', 'scheduled_message_id');

export class ListSchedulesQueryDto {
  @IsOptional() @IsString() after?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

/** Scheduled messages (docs/scheduling.md): the official client's `agents.schedule`. */
@Controller('v1/agents/:agent_id/schedule')
export class SchedulesController {
  constructor(
    private readonly create: CreateScheduleUseCase,
    private readonly schedules: ListSchedulesUseCase,
    private readonly deletion: DeleteScheduleUseCase,
  ) {}

  @LettaOperation('schedule_agent_message', 'Schedule a message, once or on a cron pattern (UTC)', 'ScheduleCreated')
  @Post()
  @HttpCode(200)
  createSchedule(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: CreateScheduleDto) {
    return this.create.execute(agentId, body);
  }

  @LettaOperation('list_scheduled_messages', "List an agent's scheduled messages, oldest first", 'ScheduledMessageList')
  @Get()
  list(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: ListSchedulesQueryDto) {
    return this.schedules.list(agentId, query.after || null, query.limit ?? 50);
  }

  @LettaOperation('retrieve_scheduled_message', 'Retrieve a scheduled message', 'ScheduledMessage')
  @Get(':scheduled_message_id')
  retrieve(@Param('agent_id', AgentIdPipe) agentId: string, @Param('scheduled_message_id', ScheduleIdPipe) id: string) {
    return this.schedules.retrieve(agentId, id);
  }

  @LettaOperation('delete_scheduled_message', 'Delete a scheduled message: it never fires again', 'ScheduleDeleted')
  @Delete(':scheduled_message_id')
  remove(@Param('agent_id', AgentIdPipe) agentId: string, @Param('scheduled_message_id', ScheduleIdPipe) id: string) {
    return this.deletion.execute(agentId, id);
  }
}
