import type { ClientTool } from '@lrs/contracts';

/**
 * A call pauses the run when the client must run it, or a tool rule asks for human approval (a
 * tool made with `default_requires_approval` brings that rule when it is attached).
 */
export function approvalRequired(toolRules: unknown[], clientTools: ClientTool[]): (toolName: string) => boolean {
  const gated = new Set(
    toolRules
      .filter((rule): rule is { type: string; tool_name: string } => typeof rule === 'object' && rule !== null && 'tool_name' in rule && 'type' in rule)
      .filter((rule) => rule.type === 'requires_approval')
      .map((rule) => rule.tool_name),
  );
  const client = new Set(clientTools.map((tool) => tool.name));
  return (toolName) => client.has(toolName) || gated.has(toolName);
}
