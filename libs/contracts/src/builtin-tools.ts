import type { ToolDefinition } from './base-tools';

/**
 * Letta's built-in tools (`letta_builtin`): code in the tool sandbox, a web page fetched through
 * the private-address guard, a web search where the operator configured a provider. Attachable
 * by name or id, never attached by default. Names and argument names are Letta's.
 */
export const LETTA_BUILTIN_TOOLS: readonly ToolDefinition[] = [
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b21',
    name: 'run_code',
    toolType: 'letta_builtin',
    description:
      'Run code in a sandbox and get what it printed and the value of its last expression. No network, no files of the host; state does not persist between calls.',
    parameters: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'The code to run.' },
        language: { type: 'string', enum: ['python', 'js', 'ts'], description: 'The language of the code.' },
      },
      required: ['code', 'language'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b22',
    name: 'fetch_webpage',
    toolType: 'letta_builtin',
    description: 'Fetch a web page and return its text (HTML converted to plain text).',
    parameters: {
      type: 'object',
      properties: { url: { type: 'string', description: 'The address of the page (http or https).' } },
      required: ['url'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b23',
    name: 'web_search',
    toolType: 'letta_builtin',
    description: 'Search the web and return the results with their titles, addresses and text.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'What to search for.' },
        num_results: { type: 'integer', description: 'How many results to return (default 10).' },
      },
      required: ['query'],
    },
  },
];
