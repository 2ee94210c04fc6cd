import type { ClientTool } from '@lrs/contracts';
import type { ToolSnapshot } from '@lrs/read-model';

/**
 * A call pauses the run when the client must run it, a tool rule asks for human approval, or the
 * tool itself requires it by default (`default_requires_approval`) and no rule of the agent says
 * otherwise.
 */
export function approvalRequired(toolRules: unknown[], clientTools: ClientTool[], tools: ReadonlyMap<string, ToolSnapshot> = new Map()): (toolName: string) => boolean {
  const gated = new Set(
    toolRules
      .filter((rule): rule is { type: string; tool_name: string } => typeof rule === 'object' && rule !== null && 'tool_name' in rule && 'type' in rule)
      .filter((rule) => rule.type === 'requires_approval')
      .map((rule) => rule.tool_name),
  );
  const client = new Set(clientTools.map((tool) => tool.name));
  return (toolName) => client.has(toolName) || gated.has(toolName) || (!client.has(toolName) && tools.get(toolName)?.defaultRequiresApproval === true);
}
