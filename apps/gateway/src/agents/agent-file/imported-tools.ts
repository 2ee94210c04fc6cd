import { HttpException, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { FileTool, UnavailableTool } from '@lrs/agent-file';
import { DEFAULT_RETURN_CHAR_LIMIT, ToolStore, unavailableReason, type NewTool } from '@lrs/read-model';
import { describeValidationErrors } from '../../http/validation';
import { CreateToolDto } from '../../tools/tools.dto';
import { ToolDefinitions } from '../../tools/tool-definitions';

/** What importing a file's tools did: tools made (taken back if the import fails), and those that answer an error. */
export interface ImportedToolsResult {
  createdToolIds: string[];
  unavailable: UnavailableTool[];
}

/**
 * An agent file's tools that are not this server's own become tools of the organization, so no
 * tool of an imported agent is dropped: a custom tool with source runs in the sandbox; any other
 * (a Letta tool this server lacks, an MCP tool whose server is not registered, a custom tool
 * whose source or requirements the sandbox cannot take) is attached all the same and answers a
 * clear error when called, with the reason kept in its metadata (`unavailable_reason`) and listed
 * in the import's answer. A tool of the same name already in the organization is used as it is,
 * unless `override_existing_tools` asks for the file's version.
 */
@Injectable()
export class ImportedTools {
  constructor(
    private readonly tools: ToolStore,
    private readonly definitions: ToolDefinitions,
  ) {}

  async create(organizationId: string, fileTools: readonly FileTool[], overrideExisting: boolean): Promise<ImportedToolsResult> {
    const result: ImportedToolsResult = { createdToolIds: [], unavailable: [] };
    for (const fileTool of fileTools) {
      const existing = (await this.tools.byNames(organizationId, [fileTool.name]))[0];
      if (existing && !overrideExisting) {
        const reason = unavailableReason(existing);
        if (reason) result.unavailable.push({ name: existing.name, tool_type: existing.toolType, reason });
        continue;
      }
      const definition = await this.definitionOf(fileTool);
      const reason = unavailableReason(definition);
      if (reason) result.unavailable.push({ name: definition.name, tool_type: definition.toolType ?? 'custom', reason });
      const { tool, created } = await this.tools.upsert({ ...definition, organizationId });
      if (created) result.createdToolIds.push(tool.id);
    }
    return result;
  }

  private async definitionOf(fileTool: FileTool): Promise<Omit<NewTool, 'organizationId'>> {
    const toolType = typeof fileTool.tool_type === 'string' && fileTool.tool_type !== '' ? fileTool.tool_type : 'custom';
    if (toolType === 'custom' && typeof fileTool.source_code === 'string') {
      const body = plainToInstance(CreateToolDto, {
        source_code: fileTool.source_code,
        source_type: fileTool.source_type ?? undefined,
        json_schema: fileTool.json_schema ?? undefined,
        description: fileTool.description ?? undefined,
        tags: fileTool.tags ?? undefined,
        return_char_limit: fileTool.return_char_limit ?? undefined,
        default_requires_approval: fileTool.default_requires_approval ?? undefined,
        pip_requirements: fileTool.pip_requirements ?? undefined,
        npm_requirements: fileTool.npm_requirements ?? undefined,
      });
      const invalid = describeValidationErrors(validateSync(body));
      if (!invalid.length) {
        try {
          return await this.definitions.define(body);
        } catch (error) {
          if (!(error instanceof HttpException) || error.getStatus() !== 422) throw error;
          return placeholder(fileTool, toolType, `the tool cannot run on this server: ${detailOf(error)}`);
        }
      }
      return placeholder(fileTool, toolType, `the tool cannot run on this server: ${invalid.join('; ')}`);
    }
    if (toolType === 'external_mcp') return placeholder(fileTool, toolType, `'${fileTool.name}' is a tool of an MCP server that is not registered in this organization`);
    if (toolType.startsWith('letta_')) return placeholder(fileTool, toolType, `Letta's built-in tool '${fileTool.name}' (${toolType}) is not provided by this server`);
    return placeholder(fileTool, toolType, `'${fileTool.name}' is a ${toolType} tool, which this server does not run; send it as a client tool (client_tools) with each message and run it yourself`);
  }
}

/** The server's own tools that answer an error here for want of configuration, and why. */
const UNCONFIGURED_SERVER_TOOLS: Record<string, { tool_type: string; reason: string }> = {
  web_search: { tool_type: 'letta_builtin', reason: 'this server has no web search provider configured; calls answer an error' },
};

/** Of an imported agent's tools, the server's own that will answer an error when called. */
export function unconfiguredServerTools(names: readonly string[]): UnavailableTool[] {
  return names.filter((name) => name in UNCONFIGURED_SERVER_TOOLS).map((name) => ({ name, ...UNCONFIGURED_SERVER_TOOLS[name] }));
}

/** A tool kept on the agent that answers its reason when called. */
function placeholder(fileTool: FileTool, toolType: string, reason: string): Omit<NewTool, 'organizationId'> {
  const schema = fileTool.json_schema && typeof fileTool.json_schema === 'object' ? fileTool.json_schema : {};
  const parameters = typeof schema.parameters === 'object' && schema.parameters !== null ? (schema.parameters as Record<string, unknown>) : { type: 'object', properties: {} };
  const description = typeof fileTool.description === 'string' ? fileTool.description : typeof schema.description === 'string' ? schema.description : '';
  const metadata = typeof fileTool.metadata_ === 'object' && fileTool.metadata_ !== null ? (fileTool.metadata_ as Record<string, unknown>) : {};
  return {
    name: fileTool.name,
    description,
    toolType,
    sourceType: typeof fileTool.source_type === 'string' ? fileTool.source_type : 'python',
    sourceCode: typeof fileTool.source_code === 'string' ? fileTool.source_code : '',
    jsonSchema: { name: fileTool.name, description, parameters },
    argsJsonSchema: null,
    tags: Array.isArray(fileTool.tags) ? fileTool.tags.filter((tag): tag is string => typeof tag === 'string') : [],
    returnCharLimit: DEFAULT_RETURN_CHAR_LIMIT,
    defaultRequiresApproval: null,
    pipRequirements: null,
    npmRequirements: null,
    metadata: { ...metadata, unavailable_reason: `${reason}; calls answer an error` },
  };
}

function detailOf(error: HttpException): string {
  const body = error.getResponse();
  const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : body;
  return String(detail).replace(/^Invalid request: /, '');
}
