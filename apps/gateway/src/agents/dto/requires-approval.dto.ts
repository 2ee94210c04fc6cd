import { IsBoolean } from 'class-validator';

export class RequiresApprovalDto {
  @IsBoolean() requires_approval: boolean;
}
