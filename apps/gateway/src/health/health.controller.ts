import { LettaOperation } from '../http/api-docs';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_VERSION } from '@lrs/contracts';

@Controller('v1/health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** 200 once the gateway can serve: its read model answers. */
  @LettaOperation('check_health', 'Health check', 'Health')
  @Get()
  async check() {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException({ detail: 'read model unavailable' });
    }
    return { version: SERVER_VERSION, status: 'ok' };
  }
}
