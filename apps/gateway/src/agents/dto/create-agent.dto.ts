import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export const AGENT_TYPES = [
  'letta_v1_agent',
  'memgpt_agent',
  'memgpt_v2_agent',
  'react_agent',
  'workflow_agent',
  'split_thread_agent',
  'sleeptime_agent',
  'voice_convo_agent',
  'voice_sleeptime_agent',
] as const;

export const MODEL_HANDLE_PATTERN = /^[^/\s]+\/\S+$/;
const MODEL_HANDLE_MESSAGE = "must be a model handle of the form '<provider>/<model>', e.g. 'openai/gpt-4o-mini'";

export class MemoryBlockDto {
  @IsString() @IsNotEmpty() @Matches(/^[A-Za-z0-9_-]+$/, { message: 'label may contain only letters, digits, _ and -' }) label: string;
  @IsString() value: string;
  @IsOptional() @IsInt() @Min(1) limit?: number;
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsBoolean() read_only?: boolean;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
}

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high'] as const;

export class ReasoningSettingsDto {
  @IsOptional() @IsIn(REASONING_EFFORTS) reasoning_effort?: (typeof REASONING_EFFORTS)[number];
}

/** Letta's model_settings: of its fields, this server acts on `reasoning.reasoning_effort` and `max_output_tokens`. */
export class ModelSettingsDto {
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ReasoningSettingsDto) reasoning?: ReasoningSettingsDto;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) max_output_tokens?: number;
  [other: string]: unknown;
}

/** Letta's CreateAgent: the fields this server acts on are validated, the rest are accepted and kept. */
export class CreateAgentDto {
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256) name?: string;
  @IsOptional() @IsString() system?: string;
  @IsOptional() @IsIn(AGENT_TYPES) agent_type?: (typeof AGENT_TYPES)[number];
  @IsOptional() @IsString() @Matches(MODEL_HANDLE_PATTERN, { message: `model ${MODEL_HANDLE_MESSAGE}` }) model?: string;
  @IsOptional() @IsString() embedding?: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => MemoryBlockDto) memory_blocks?: MemoryBlockDto[];
  /** Existing blocks (of other agents) to share with this one. */
  @IsOptional() @IsArray() @IsString({ each: true }) @ArrayUnique() block_ids?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) @ArrayUnique() tags?: string[];
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
  @IsOptional() @IsArray() @IsString({ each: true }) tools?: string[];
  @IsOptional() @IsBoolean() include_base_tools?: boolean;
  @IsOptional() @IsArray() tool_rules?: unknown[];
  @IsOptional() @IsInt() @Min(1) context_window_limit?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) max_tokens?: number;
  /** Turns the model's thinking on where the endpoint makes it switchable. */
  @IsOptional() @IsBoolean() reasoning?: boolean;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ModelSettingsDto) model_settings?: ModelSettingsDto;
  [other: string]: unknown;
}

export class UpdateAgentDto {
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256) name?: string;
  @IsOptional() @IsString() system?: string;
  @IsOptional() @IsString() @Matches(MODEL_HANDLE_PATTERN, { message: `model ${MODEL_HANDLE_MESSAGE}` }) model?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
  @IsOptional() @IsArray() tool_rules?: unknown[];
  /** Replaces the agent's blocks with these (detached ones are kept for the agents that share them). */
  @IsOptional() @IsArray() @IsString({ each: true }) @ArrayUnique() block_ids?: string[];
}
