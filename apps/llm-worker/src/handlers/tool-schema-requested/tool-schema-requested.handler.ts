import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { TOOL_SCHEMA_REQUESTS, type ToolSchemaRequest, type WorkerReply, type ToolSchemaResult } from '@lrs/jetstream';
import { ToolSandbox } from '@lrs/tool-sandbox';

/**
 * The schema of a Python tool created without one: its function's signature and Google-style
 * docstring, read by Python's own parser in the sandbox (the source is parsed, never run). A
 * source it cannot describe is a 422 naming the problem.
 */
@Controller()
export class ToolSchemaRequestedHandler {
  constructor(private readonly sandbox: ToolSandbox) {}

  @MessagePattern(TOOL_SCHEMA_REQUESTS)
  async describe(@Payload() request: ToolSchemaRequest): Promise<WorkerReply<ToolSchemaResult>> {
    const described = await this.sandbox.describePython(request.sourceCode);
    return described.ok ? { ok: true, schema: described.schema } : { ok: false, status: 422, detail: described.problem };
  }
}
