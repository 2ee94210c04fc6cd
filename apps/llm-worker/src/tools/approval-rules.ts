import type { ClientTool } from '@lrs/contracts';
import { approvalGatedTools } from '@lrs/domain-run';

/**
 * A call pauses the run when the client must run it, or a tool rule asks for human approval (a
 * tool made with `default_requires_approval` brings that rule when it is attached).
 */
export function approvalRequired(toolRules: unknown[], clientTools: ClientTool[]): (toolName: string) => boolean {
  const gated = approvalGatedTools(toolRules);
  const client = new Set(clientTools.map((tool) => tool.name));
  return (toolName) => client.has(toolName) || gated.has(toolName);
}
