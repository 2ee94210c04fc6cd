import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsObject, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { MCP_SERVER_TYPES, type McpServerType } from '@lrs/mcp-client';
import { Name } from '../http/limits';

/** A URL, a command, an argument: long enough for any real one. */
export const MAX_MCP_FIELD_CHARS = 4_096;
/** Custom headers, environment variables, command arguments of one server. */
export const MAX_MCP_ENTRIES = 100;

/**
 * Letta's Create/Update{StreamableHTTP,Sse,Stdio}McpServer as one shape: which fields apply is
 * decided by `mcp_server_type` (or, when absent, by `command` for stdio, else streamable HTTP),
 * and checked in `mcp-server-config.ts`. `null` means "not given", as Letta's clients send it.
 */
export class McpServerConfigDto {
  @IsOptional() @IsIn(MCP_SERVER_TYPES) mcp_server_type?: McpServerType;
  @IsOptional() @IsString() @MinLength(1) @MaxLength(MAX_MCP_FIELD_CHARS) server_url?: string | null;
  @IsOptional() @IsString() @Name() auth_header?: string | null;
  @IsOptional() @IsString() @MaxLength(MAX_MCP_FIELD_CHARS) auth_token?: string | null;
  @IsOptional() @IsObject() custom_headers?: Record<string, string> | null;
  @IsOptional() @IsString() @MinLength(1) @MaxLength(MAX_MCP_FIELD_CHARS) command?: string | null;
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_MCP_ENTRIES) @IsString({ each: true }) @MaxLength(MAX_MCP_FIELD_CHARS, { each: true }) args?: string[] | null;
  @IsOptional() @IsObject() env?: Record<string, string> | null;
}

export class CreateMcpServerDto {
  @IsString() @MinLength(1) @Name() server_name: string;
  @IsObject() @ValidateNested() @Type(() => McpServerConfigDto) config: McpServerConfigDto;
}

export class UpdateMcpServerDto {
  @IsOptional() @IsString() @MinLength(1) @Name() server_name?: string | null;
  @IsObject() @ValidateNested() @Type(() => McpServerConfigDto) config: McpServerConfigDto;
}

export class RunMcpToolDto {
  @IsOptional() @IsObject() args?: Record<string, unknown> | null;
}

export class RefreshMcpServerQueryDto {
  @IsOptional() @IsString() @Name() agent_id?: string;
}
