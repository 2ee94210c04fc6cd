import { Body, ConflictException, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post, Put, Query, UnprocessableEntityException } from '@nestjs/common';
import { ToolNameTaken, ToolStore, toToolView, type ToolSnapshot } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { ToolIdPipe } from '../http/letta-id.pipe';
import { callerOrganization } from '../auth/caller';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { CreateToolDto, ListToolsQueryDto, SearchToolsDto, UpdateToolDto } from './tools.dto';
import { ToolDefinitions, type ToolDefinition } from './tool-definitions';

/**
 * Letta's `/v1/tools`: an organization's custom tools from source, listed with the server's own
 * tools. A tool is attached to agents by id or name (`/v1/agents/{id}/tools/attach/{tool_id}`);
 * deleting it detaches it from every agent. Another organization's tool is a 404.
 */
@Controller('v1/tools')
export class ToolsController {
  constructor(
    private readonly tools: ToolStore,
    private readonly definitions: ToolDefinitions,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('create_tool', 'Create a tool from source', 'Tool')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateToolDto) {
    const definition = await this.definitions.define(body);
    await this.requireRoom();
    return toToolView(await this.named(definition.name, () => this.tools.create({ ...definition, organizationId: callerOrganization() })));
  }

  @LettaOperation('upsert_tool', 'Create a tool, or change the one of the same name', 'Tool')
  @Put()
  async upsert(@Body() body: CreateToolDto) {
    const definition = await this.definitions.define(body);
    const existing = await this.tools.byNames(callerOrganization(), [definition.name]);
    if (!existing.length) await this.requireRoom();
    return toToolView((await this.tools.upsert({ ...definition, organizationId: callerOrganization() })).tool);
  }

  @LettaOperation('list_tools', "List the organization's tools and the server's own", { arrayOf: 'Tool' })
  @Get()
  async list(@Query() query: ListToolsQueryDto) {
    return (await this.tools.list(callerOrganization(), query.toFilter())).map(toToolView);
  }

  /** Words of the query in names, descriptions and tags, ranked by how many match (no embedding: tool catalogs are small). */
  @LettaOperation('search_tools', "Search the organization's tools", { arrayOf: 'ToolSearchResult' })
  @Post('search')
  @HttpCode(200)
  async search(@Body() body: SearchToolsDto) {
    const candidates = await this.tools.list(callerOrganization(), { limit: 10_000, order: 'asc', toolTypes: body.tool_types ?? undefined, tags: body.tags ?? undefined });
    const words = (body.query ?? '').toLowerCase().split(/\W+/).filter(Boolean);
    const scored = candidates
      .map((tool) => {
        const text = `${tool.name.replaceAll('_', ' ')} ${tool.description} ${tool.tags.join(' ')}`.toLowerCase();
        return { tool, text, score: words.length ? words.filter((word) => text.includes(word)).length / words.length : 1 };
      })
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, body.limit ?? 10);
    return scored.map((entry, index) => ({ tool: toToolView(entry.tool), combined_score: entry.score, embedded_text: entry.text, fts_rank: index + 1, vector_rank: null }));
  }

  @LettaOperation('retrieve_tool', 'Retrieve a tool', 'Tool')
  @Get(':tool_id')
  async retrieve(@Param('tool_id', ToolIdPipe) toolId: string) {
    return toToolView(await this.tool(toolId));
  }

  /** A new source or schema is read again (and a new function name renames the tool on its agents). */
  @LettaOperation('modify_tool', 'Update a tool', 'Tool')
  @Patch(':tool_id')
  async update(@Param('tool_id', ToolIdPipe) toolId: string, @Body() body: UpdateToolDto) {
    const current = await this.customTool(toolId);
    // Requirements are checked against the source they come with, so they also go through define().
    const redefines = [body.source_code, body.source_type, body.json_schema, body.args_json_schema, body.pip_requirements, body.npm_requirements].some((field) => field != null);
    const changes: Partial<ToolDefinition> = redefines
      ? await this.definitions.define(
          {
            ...body,
            source_code: body.source_code ?? current.sourceCode ?? '',
            source_type: (body.source_type ?? current.sourceType) as CreateToolDto['source_type'],
            // A new source brings its own schema; otherwise the stored one stays the function's.
            json_schema: body.json_schema ?? (body.source_code != null ? null : current.jsonSchema),
          },
          current,
        )
      : {
          description: body.description ?? undefined,
          tags: body.tags ?? undefined,
          returnCharLimit: body.return_char_limit ?? undefined,
          defaultRequiresApproval: body.default_requires_approval ?? undefined,
          metadata: body.metadata_ ?? undefined,
          ...(body.description != null ? { jsonSchema: { ...current.jsonSchema, description: body.description } } : {}),
        };
    const updated = await this.named(changes.name ?? current.name, () => this.tools.update(callerOrganization(), toolId, changes));
    if (!updated) throw toolNotFound(toolId);
    return toToolView(updated);
  }

  @LettaOperation('delete_tool', 'Delete a tool (it is detached from every agent)', 'Deleted')
  @Delete(':tool_id')
  async remove(@Param('tool_id', ToolIdPipe) toolId: string) {
    await this.customTool(toolId);
    if (!(await this.tools.delete(callerOrganization(), toolId))) throw toolNotFound(toolId);
    return { message: `Tool id=${toolId} successfully deleted` };
  }

  private async tool(toolId: string): Promise<ToolSnapshot> {
    const tool = await this.tools.get(callerOrganization(), toolId);
    if (!tool) throw toolNotFound(toolId);
    return tool;
  }

  /** The server's own tools are the same on every server: they cannot be changed or deleted. */
  private async customTool(toolId: string): Promise<ToolSnapshot> {
    const tool = await this.tool(toolId);
    if (tool.organizationId === null) throw new UnprocessableEntityException({ detail: `Invalid request: tool ${tool.name} is one of this server's own tools and cannot be changed or deleted` });
    return tool;
  }

  private async requireRoom(): Promise<void> {
    if ((await this.tools.customToolCount(callerOrganization())) >= this.settings.maxToolsPerOrganization) {
      throw new UnprocessableEntityException({ detail: `Invalid request: the organization has ${this.settings.maxToolsPerOrganization} tools, the most this server allows (MAX_TOOLS_PER_ORGANIZATION); delete some first` });
    }
  }

  private async named<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ToolNameTaken) throw new ConflictException({ detail: `CONFLICT: a tool named '${name}' already exists in this organization (use PUT /v1/tools to change it)` });
      throw error;
    }
  }
}

function toolNotFound(toolId: string): NotFoundException {
  return new NotFoundException({ detail: `Tool with id '${toolId}' not found` });
}
