import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ApiKeyStore } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { currentCaller } from './caller';

export class CreateApiKeyDto {
  /** The organization's name: created if new. */
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(/^[\x20-\x7e]+$/, { message: 'organization must be printable ASCII' }) organization: string;
  @IsOptional() @IsString() @MaxLength(128) name?: string;
  @IsOptional() @IsBoolean() admin?: boolean;
}

/** Key administration, for admin keys only (README, "Authentication"). */
@Controller('v1/admin/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyStore) {}

  @LettaOperation('create_api_key', 'Create an API key (and its organization if new); the key is shown once', 'ApiKey')
  @Post()
  @HttpCode(200)
  create(@Body() body: CreateApiKeyDto) {
    requireAdmin();
    return this.keys.create({ organization: body.organization, name: body.name, admin: body.admin ?? false });
  }

  @LettaOperation('list_api_keys', 'List API keys (never their secrets)', { arrayOf: 'ApiKey' })
  @Get()
  list() {
    requireAdmin();
    return this.keys.list();
  }

  @LettaOperation('revoke_api_key', 'Revoke an API key: it fails from the next request on', 'ApiKey')
  @Delete(':key_id')
  async revoke(@Param('key_id') keyId: string) {
    requireAdmin();
    if (!(await this.keys.revoke(keyId))) throw new NotFoundException({ detail: `API key ${keyId} not found or already revoked` });
    return this.keys.get(keyId);
  }
}

function requireAdmin(): void {
  if (!currentCaller()?.admin) throw new ForbiddenException({ detail: 'This needs an admin API key' });
}
