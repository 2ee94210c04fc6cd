import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { idPatternFor } from '@lrs/contracts';
import type { StepFeedback } from '@lrs/read-model';
import { IsInstant, PageQueryDto, blankIsAbsent, toArray, toBoolean } from '../../http/page.query';
import { LIMITS, Name } from '../../http/limits';

export const STEP_FEEDBACK: readonly StepFeedback[] = ['positive', 'negative'];

/** `GET /v1/steps`: Letta's StepListParams, plus `run_id`. */
export class ListStepsQueryDto extends PageQueryDto {
  @IsOptional() @Transform(blankIsAbsent) @Matches(new RegExp(idPatternFor('agent')), { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  /** Not in Letta's list: a run's steps (also `GET /v1/runs/{id}/steps`). */
  @IsOptional() @Transform(blankIsAbsent) @Matches(new RegExp(idPatternFor('run')), { message: "run_id must match 'run-{uuid4}'" }) run_id?: string;
  @IsOptional() @Transform(blankIsAbsent) @IsString() @Name() model?: string;
  @IsOptional() @Transform((params) => toBoolean({ value: blankIsAbsent(params) })) @IsBoolean() has_feedback?: boolean;
  @IsOptional() @Transform(blankIsAbsent) @IsIn(STEP_FEEDBACK) feedback?: StepFeedback;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[];
  @IsOptional() @Transform(blankIsAbsent) @IsInstant() start_date?: string;
  @IsOptional() @Transform(blankIsAbsent) @IsInstant() end_date?: string;
  /** Letta Cloud's projects and trace ids: no step of this server has either, so either filter matches none. */
  @IsOptional() @Transform(blankIsAbsent) @IsString() @Name() project_id?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.ids) @IsString({ each: true }) @Name({ each: true }) trace_ids?: string[];
}

/** `PATCH /v1/steps/{id}/feedback`: Letta's FeedbackCreateParams. */
export class StepFeedbackDto {
  /** Absent or null clears the feedback, as Letta's. */
  @IsOptional() @IsIn(STEP_FEEDBACK) feedback?: StepFeedback | null;
  /** Replaces the step's tags when given; absent or null leaves them. */
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[] | null;
}
