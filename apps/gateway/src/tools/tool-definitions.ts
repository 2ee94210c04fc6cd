import { HttpException, Inject, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { baseTool } from '@lrs/contracts';
import { ToolSchemaRequests } from '@lrs/jetstream';
import { DEFAULT_RETURN_CHAR_LIMIT, type NewTool, type ToolSnapshot } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import type { CreateToolDto, PackageRequirementDto } from './tools.dto';

/** Python packages a tool may require: what the sandbox bundles beside the standard library. */
export const BUNDLED_PIP_PACKAGES: ReadonlySet<string> = new Set(['requests']);
/** A function name as model APIs take it. */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_SCHEMA_CHARS = 100_000;

export type ToolDefinition = Omit<NewTool, 'organizationId'>;

/**
 * Turns a tool's source and options into what is stored: its function schema (given, or read
 * from the Python source's signature and docstring by the sandbox's own parser, never by running
 * it), its name (the function's), and requirements checked against what the sandbox bundles, so a
 * tool that could never run is refused at create with a 422, not in the middle of a run.
 */
@Injectable()
export class ToolDefinitions {
  constructor(
    private readonly schemas: ToolSchemaRequests,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async define(body: CreateToolDto, current?: ToolSnapshot): Promise<ToolDefinition> {
    // Older Letta tools say `json` for Python source with a given schema: it runs as Python.
    const sourceType = body.source_type === 'json' || !body.source_type ? 'python' : body.source_type;
    const problems = [...requirementProblems('pip_requirements', body.pip_requirements, BUNDLED_PIP_PACKAGES), ...requirementProblems('npm_requirements', body.npm_requirements, new Set())];
    if (problems.length) throw invalid(problems.join('; '));
    const schema = await this.schemaOf(body, sourceType);
    if (baseTool(schema.name)) throw invalid(`json_schema.name: '${schema.name}' is the name of one of this server's own tools; give the function another name`);
    return {
      name: schema.name,
      description: body.description ?? schema.description ?? '',
      sourceType,
      sourceCode: body.source_code,
      jsonSchema: { ...schema, description: body.description ?? schema.description ?? '' },
      argsJsonSchema: body.args_json_schema ?? null,
      tags: body.tags ?? current?.tags ?? [],
      returnCharLimit: body.return_char_limit ?? current?.returnCharLimit ?? DEFAULT_RETURN_CHAR_LIMIT,
      defaultRequiresApproval: body.default_requires_approval ?? current?.defaultRequiresApproval ?? null,
      pipRequirements: body.pip_requirements ?? current?.pipRequirements ?? null,
      npmRequirements: body.npm_requirements ?? current?.npmRequirements ?? null,
      metadata: body.metadata_ ?? current?.metadata ?? null,
    };
  }

  private async schemaOf(body: CreateToolDto, sourceType: string): Promise<ToolSnapshot['jsonSchema']> {
    if (body.json_schema) {
      const schema = givenSchema(body.json_schema);
      if (typeof schema === 'string') throw invalid(schema);
      const declared = sourceType === 'python' ? new RegExp(`\\bdef\\s+${schema.name}\\s*\\(`) : new RegExp(`\\bfunction\\s+${schema.name}\\s*[(<]|\\b(?:const|let)\\s+${schema.name}\\s*=`);
      if (!declared.test(body.source_code)) throw invalid(`json_schema.name: the source defines no function '${schema.name}'`);
      return body.args_json_schema ? { ...schema, parameters: body.args_json_schema } : schema;
    }
    if (sourceType !== 'python') throw invalid('json_schema: a typescript tool needs its json_schema (name, description, parameters); only Python tools have theirs read from the source');
    const reply = await this.schemas.request({ sourceCode: body.source_code }, this.settings.toolRunTimeoutMs);
    if (!reply.ok) throw reply.status === 422 ? invalid(`source_code: ${reply.detail}`) : new HttpException({ detail: reply.detail }, reply.status);
    const parameters = body.args_json_schema ?? reply.schema.parameters;
    return { name: reply.schema.name, description: reply.schema.description, parameters };
  }
}

/** A json_schema given with the tool, checked to be a function schema a model API takes. */
export function givenSchema(schema: Record<string, unknown>): ToolSnapshot['jsonSchema'] | string {
  if (JSON.stringify(schema).length > MAX_SCHEMA_CHARS) return `json_schema: longer than ${MAX_SCHEMA_CHARS} characters`;
  // Some clients send the OpenAI tool wrapper ({type: "function", function: {...}}).
  const fn = schema.type === 'function' && typeof schema.function === 'object' && schema.function !== null ? (schema.function as Record<string, unknown>) : schema;
  if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) return 'json_schema.name: must be a function name (letters, digits and _, at most 64, not starting with a digit)';
  if (fn.description !== undefined && fn.description !== null && typeof fn.description !== 'string') return 'json_schema.description: must be a string';
  const parameters = fn.parameters ?? { type: 'object', properties: {} };
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters) || (parameters as { type?: unknown }).type !== 'object') {
    return "json_schema.parameters: must be a JSON Schema of type 'object'";
  }
  return { ...fn, name: fn.name, description: (fn.description as string | undefined) ?? '', parameters: parameters as Record<string, unknown> };
}

export function requirementProblems(field: string, requirements: PackageRequirementDto[] | null | undefined, bundled: ReadonlySet<string>): string[] {
  return (requirements ?? [])
    .filter((requirement) => !bundled.has(requirement.name.toLowerCase()))
    .map((requirement) =>
      `${field}: '${requirement.name}' cannot be installed: tools run in the server's sandbox with ${field === 'pip_requirements' ? "Python's standard library and requests" : 'JavaScript built-ins only'}, and no package is installed at run time`,
    );
}

function invalid(detail: string): UnprocessableEntityException {
  return new UnprocessableEntityException({ detail: `Invalid request: ${detail}` });
}
