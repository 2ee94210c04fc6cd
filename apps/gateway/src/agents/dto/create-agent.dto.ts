import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
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
  Min,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { ValidateBy } from 'class-validator';
import { LIMITS, Name } from '../../http/limits';
import { NullMeansUnchanged } from '../../http/validation';

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

/**
 * A block label: letters, digits, `_` and `-`, in segments joined by single `/` (Letta's path
 * labels, `system/active-issues`): no empty segment, no leading or trailing `/`, so no `..`, no
 * control characters. Indexed (unique per agent), so short.
 */
export const BLOCK_LABEL_PATTERN = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

export const BlockLabel = (options: ValidationOptions = {}): PropertyDecorator =>
  applyDecorators(
    IsString(options),
    IsNotEmpty(options),
    Name(options),
    Matches(BLOCK_LABEL_PATTERN, { ...options, message: "label may contain only letters, digits, _ and -, in segments joined by single '/' (e.g. system/notes)" }),
  );

/** A block's optional `limit` in characters (a Postgres integer column). */
export const BlockCharLimit = (): PropertyDecorator => applyDecorators(IsOptional(), IsInt(), Min(1), Max(LIMITS.blockCharLimit));

export class MemoryBlockDto {
  @BlockLabel() label: string;
  @IsString() value: string;
  @BlockCharLimit() limit?: number;
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
  @IsOptional() @IsString() @IsNotEmpty() @Name() name?: string;
  @IsOptional() @IsString() system?: string;
  @IsOptional() @IsIn(AGENT_TYPES) agent_type?: (typeof AGENT_TYPES)[number];
  @IsOptional() @IsString() @Name() @Matches(MODEL_HANDLE_PATTERN, { message: `model ${MODEL_HANDLE_MESSAGE}` }) model?: string;
  @IsOptional() @IsString() @Name() embedding?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.blocks) @ValidateNested({ each: true }) @Type(() => MemoryBlockDto) memory_blocks?: MemoryBlockDto[];
  /** Existing blocks (of other agents) to share with this one. */
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.blocks) @IsString({ each: true }) @Name({ each: true }) @ArrayUnique() block_ids?: string[];
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) @ArrayUnique() tags?: string[];
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tools) @IsString({ each: true }) @Name({ each: true }) tools?: string[];
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tools) @IsString({ each: true }) @Name({ each: true }) tool_ids?: string[];
  @IsOptional() @IsBoolean() include_base_tools?: boolean;
  /** The environment of the agent's tools (`os.environ`, `process.env`); shown by name only, never by value. */
  @IsOptional() @IsEnvironment() secrets?: Record<string, string> | null;
  /** Deprecated in Letta for `secrets`: the same. */
  @IsOptional() @IsEnvironment() tool_exec_environment_variables?: Record<string, string> | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.toolRules) tool_rules?: unknown[];
  @IsOptional() @IsInt() @Min(1) @Max(LIMITS.contextWindow) context_window_limit?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) max_tokens?: number;
  /** Turns the model's thinking on where the endpoint makes it switchable. */
  @IsOptional() @IsBoolean() reasoning?: boolean;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ModelSettingsDto) model_settings?: ModelSettingsDto;
  [other: string]: unknown;
}

export class UpdateAgentDto {
  @NullMeansUnchanged() @IsOptional() @IsString() @IsNotEmpty() @Name() name?: string;
  @NullMeansUnchanged() @IsOptional() @IsString() system?: string;
  @NullMeansUnchanged() @IsOptional() @IsString() @Name() @Matches(MODEL_HANDLE_PATTERN, { message: `model ${MODEL_HANDLE_MESSAGE}` }) model?: string;
  @NullMeansUnchanged() @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[];
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
  @NullMeansUnchanged() @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.toolRules) tool_rules?: unknown[];
  /** Replaces the agent's tools with these. */
  @NullMeansUnchanged() @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tools) @IsString({ each: true }) @Name({ each: true }) tool_ids?: string[];
  /** Replaces the agent's secrets (a value equal to the mask the API shows keeps the stored one). */
  @NullMeansUnchanged() @IsOptional() @IsEnvironment() secrets?: Record<string, string>;
  @NullMeansUnchanged() @IsOptional() @IsEnvironment() tool_exec_environment_variables?: Record<string, string>;
  /** Replaces the agent's blocks with these (detached ones are kept for the agents that share them). */
  @NullMeansUnchanged() @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.blocks) @IsString({ each: true }) @Name({ each: true }) @ArrayUnique() block_ids?: string[];
}

/** Variables a tool's environment may hold, and their bounds (names as a shell takes them). */
const ENVIRONMENT_MAX_KEYS = 100;
const ENVIRONMENT_MAX_VALUE_CHARS = 10_000;
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

export function IsEnvironment(): PropertyDecorator {
  return ValidateBy({
    name: 'isEnvironment',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= ENVIRONMENT_MAX_KEYS &&
        Object.entries(value).every(([key, item]) => ENVIRONMENT_NAME.test(key) && typeof item === 'string' && item.length <= ENVIRONMENT_MAX_VALUE_CHARS && !item.includes('\0')),
      defaultMessage: (args) =>
        `${args?.property} must be an object of at most ${ENVIRONMENT_MAX_KEYS} variables: names of letters, digits and _ (not starting with a digit), string values of at most ${ENVIRONMENT_MAX_VALUE_CHARS} characters`,
    },
  });
}
