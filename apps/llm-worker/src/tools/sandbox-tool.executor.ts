import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import { AgentSecretStore, storableText, type ToolSnapshot } from '@lrs/read-model';
import { ToolSandbox, type ToolExecution } from '@lrs/tool-sandbox';
import type { ToolOutcome } from '../step-messages';
import { editBlock } from './letta-memory-tools';
import type { ToolContext } from './tool-context';
import type { ToolExecutor } from './tool-executor';

/**
 * Custom tools from source (`/v1/tools`): Python in Pyodide, TypeScript and JavaScript in QuickJS,
 * in the sandbox's child processes (docs/tool-sandbox.md). The agent's secrets are the tool's
 * environment; a tool that takes `agent_state` reads the step's view of the agent's memory, and
 * its `update_block_value` calls become the step's memory edits (whole-value rewrites, committed
 * with the step like a memory tool's). A redelivered step runs its tools again: effects outside
 * this server (an HTTP call a tool makes) may happen twice (docs/custom-tools.md, "Guarantees").
 */
@Injectable()
export class SandboxToolExecutor implements ToolExecutor {
  constructor(
    private readonly sandbox: ToolSandbox,
    private readonly secrets: AgentSecretStore,
  ) {}

  runs(tool: ToolSnapshot): boolean {
    return tool.toolType === 'custom' && tool.sourceCode !== null;
  }

  async execute(call: ToolCall, args: Record<string, unknown>, tool: ToolSnapshot, context: ToolContext): Promise<ToolOutcome> {
    const execution = await this.sandbox.run({
      language: tool.sourceType === 'typescript' ? 'typescript' : tool.sourceType === 'javascript' ? 'javascript' : 'python',
      sourceCode: tool.sourceCode ?? '',
      functionName: tool.jsonSchema.name ?? tool.name,
      args,
      env: await this.secrets.values(context.agentId),
      agent: {
        id: context.agentId,
        name: context.agent.name,
        blocks: context.labels().map((label) => {
          const block = context.block(label)!;
          return { label, value: block.value, limit: block.limit, readOnly: block.readOnly, description: context.description(label) };
        }),
      },
      affinity: context.agentId,
      returnCharLimit: tool.returnCharLimit,
      signal: context.signal,
    });
    return outcomeOf(call, execution, context);
  }
}

/** The sandbox's answer as the step records it; memory updates join the step's edits. */
export function outcomeOf(call: ToolCall, execution: ToolExecution, context: ToolContext): ToolOutcome {
  const refused: string[] = [];
  for (const update of execution.memoryUpdates) {
    const edit = editBlock(call, context, update.label, { kind: 'rethink', newValue: storableText(update.value) });
    if (edit.status === 'error') refused.push(edit.output);
  }
  const output = refused.length ? `${execution.returnValue}\n${refused.join('\n')}` : execution.returnValue;
  return {
    call,
    status: refused.length ? 'error' : execution.status,
    output: storableText(output),
    stdout: execution.stdout.map((line) => storableText(line)),
    stderr: execution.stderr.map((line) => storableText(line)),
  };
}
