import type { ClientTool } from '@lrs/contracts';

/** A server tool's function schema, as the catalog holds it (base or custom). */
export interface ServerToolSchema {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** A tool as Chat Completions takes it. */
export interface ToolSchema {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/**
 * The tools offered to the model: the agent's server tools, then the request's client tools.
 * A client tool replaces a server tool of the same name, as in Letta.
 */
export function toolSchemas(serverTools: readonly ServerToolSchema[], clientTools: ClientTool[]): ToolSchema[] {
  const clientNames = new Set(clientTools.map((tool) => tool.name));
  const server = serverTools.filter((tool) => !clientNames.has(tool.name)).map((tool) => fn(tool.name, tool.description ?? '', tool.parameters));
  const client = clientTools.map((tool) => fn(tool.name, tool.description ?? '', tool.parameters ?? { type: 'object', properties: {} }));
  return [...server, ...client];
}

function fn(name: string, description: string, parameters: Record<string, unknown>): ToolSchema {
  return { type: 'function', function: { name, description, parameters } };
}
