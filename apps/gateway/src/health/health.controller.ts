import { LettaOperation } from '../http/api-docs';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_VERSION } from '@lrs/contracts';
import { ConnectionWatch } from '@lrs/jetstream';

@Controller('v1/health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: ConnectionWatch,
  ) {}

  /** 200 while the gateway can serve: its read model answers and its NATS connection is up. */
  @LettaOperation('check_health', 'Health check', 'Health')
  @Get()
  async check() {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException({ detail: 'read model unavailable' });
    }
    if (!this.nats.up) throw new ServiceUnavailableException({ detail: 'event log unreachable' });
    return { version: SERVER_VERSION, status: 'ok' };
  }
}
