import { Injectable } from '@nestjs/common';
import { BASE_TOOLS } from '@lrs/contracts';
import { ToolStore, type ToolSnapshot } from '@lrs/read-model';

/**
 * Agents name their tools. A request may give them by name (`tools`) or by id (`tool_ids`): both
 * must be the server's own tools or the organization's custom tools, or the request is refused
 * rather than failing every call later.
 */
@Injectable()
export class AgentToolNames {
  constructor(private readonly tools: ToolStore) {}

  async resolve(organizationId: string, names: readonly string[] = [], ids: readonly string[] = []): Promise<{ names: string[]; problems: string[]; gated: string[] }> {
    const problems: string[] = [];
    const baseByName = new Set(BASE_TOOLS.map((tool) => tool.name));
    const customNames = names.filter((name) => !baseByName.has(name));
    const custom = await this.tools.byNames(organizationId, customNames);
    const found = new Set(custom.map((tool) => tool.name));
    for (const name of customNames) if (!found.has(name)) problems.push(`tools: unknown tool '${name}' (create it with POST /v1/tools, or pass client_tools on a message for a tool your client runs)`);
    const byId: ToolSnapshot[] = [];
    for (const id of ids) {
      const tool = await this.tools.get(organizationId, id);
      if (tool) byId.push(tool);
      else problems.push(`tool_ids: tool '${id}' not found`);
    }
    const gated = [...custom, ...byId].filter((tool) => tool.defaultRequiresApproval === true).map((tool) => tool.name);
    return { names: [...new Set([...names, ...byId.map((tool) => tool.name)])], problems, gated: [...new Set(gated)] };
  }
}

