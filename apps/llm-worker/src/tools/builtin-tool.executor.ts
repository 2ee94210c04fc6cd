import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import type { ToolSnapshot } from '@lrs/read-model';
import { ToolSandbox, type SandboxLanguage } from '@lrs/tool-sandbox';
import type { ToolOutcome } from '../step-messages';
import { outcomeOf } from './sandbox-tool.executor';
import type { ToolContext } from './tool-context';
import type { ToolExecutor } from './tool-executor';
import { failure } from './tool-failure';
import { WebPages } from './web-pages';

const LANGUAGES: Record<string, SandboxLanguage> = { python: 'python', js: 'javascript', javascript: 'javascript', ts: 'typescript', typescript: 'typescript' };

/**
 * Letta's built-in tools: `run_code` in the tool sandbox (a fresh namespace each call, the
 * agent's secrets not given), `fetch_webpage` through the private-address guard, `web_search`
 * only where the operator configured a provider (none is bundled: the call says so).
 */
@Injectable()
export class BuiltinToolExecutor implements ToolExecutor {
  constructor(
    private readonly sandbox: ToolSandbox,
    private readonly pages: WebPages,
  ) {}

  runs(tool: ToolSnapshot): boolean {
    return tool.organizationId === null && tool.toolType === 'letta_builtin';
  }

  async execute(call: ToolCall, args: Record<string, unknown>, _tool: ToolSnapshot, context: ToolContext): Promise<ToolOutcome> {
    switch (call.name) {
      case 'run_code': {
        const language = LANGUAGES[String(args.language ?? 'python').toLowerCase()];
        if (!language) return failure(call, `Error: run_code runs python, js or ts, not '${String(args.language)}'`);
        if (typeof args.code !== 'string') return failure(call, 'Error: run_code needs a string code');
        const execution = await this.sandbox.runCode(language, args.code, { affinity: context.agentId, signal: context.signal });
        return outcomeOf(call, execution, context);
      }
      case 'fetch_webpage': {
        if (typeof args.url !== 'string') return failure(call, 'Error: fetch_webpage needs a string url');
        const page = await this.pages.fetchText(args.url, context.signal);
        return page.ok ? { call, status: 'success', output: page.text } : failure(call, `Error: ${page.error}`);
      }
      case 'web_search':
        // Letta's web_search calls a hosted search API; none is bundled or configurable here yet.
        return failure(call, 'Error: web_search is not available: this server has no web search provider configured');
      default:
        return failure(call, `Error: tool '${call.name}' is not available to this agent`);
    }
  }
}
