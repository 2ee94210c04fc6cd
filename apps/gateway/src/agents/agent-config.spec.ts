import { DEFAULT_ORGANIZATION_ID } from '@lrs/contracts';
import { DEFAULT_SYSTEM_PROMPT } from '@lrs/domain-run';
import { llmConfigFor, memoryBlockProblems, newAgentFrom } from './agent-config';
import type { CreateAgentDto } from './dto/create-agent.dto';

describe('llmConfigFor', () => {
  it('describes a handle served by the OpenAI-compatible endpoint, with defaults', () => {
    expect(llmConfigFor('openai/gpt-4o-mini')).toEqual({
      model: 'gpt-4o-mini',
      model_endpoint_type: 'openai',
      model_endpoint: null,
      provider_name: 'openai',
      provider_category: 'base',
      context_window: 128_000,
      handle: 'openai/gpt-4o-mini',
      temperature: 0.7,
      max_tokens: null,
      enable_reasoner: false,
      reasoning_effort: null,
      parallel_tool_calls: false,
    });
  });

  it('keeps every slash after the first in the model name', () => {
    expect(llmConfigFor('together/meta-llama/Llama-3-8b')).toMatchObject({
      provider_name: 'together',
      model: 'meta-llama/Llama-3-8b',
      handle: 'together/meta-llama/Llama-3-8b',
    });
  });

  it('uses the given context window and max tokens', () => {
    expect(llmConfigFor('openai/gpt-4o', { contextWindow: 8192, maxTokens: 512 })).toMatchObject({
      context_window: 8192,
      max_tokens: 512,
    });
  });

  it('treats a null max tokens as unset', () => {
    expect(llmConfigFor('openai/gpt-4o', { maxTokens: null })).toMatchObject({ max_tokens: null, context_window: 128_000 });
  });
});

describe('newAgentFrom', () => {
  it('fills every default from an empty body', () => {
    const agent = newAgentFrom({}, 'openai/default-model');
    expect(agent).toEqual({
      organizationId: DEFAULT_ORGANIZATION_ID,
      name: expect.stringMatching(/^agent-[0-9a-z]{1,8}$/),
      system: DEFAULT_SYSTEM_PROMPT,
      agentType: 'letta_v1_agent',
      model: 'openai/default-model',
      embedding: null,
      llmConfig: llmConfigFor('openai/default-model'),
      memoryBlocks: [],
      blockIds: [],
      tags: [],
      description: null,
      metadata: null,
      toolRules: [],
      toolNames: ['memory_insert', 'memory_replace', 'conversation_search'],
      extra: {},
    });
  });

  it('takes what the body gives', () => {
    const body: CreateAgentDto = {
      name: 'helper',
      system: 'You help.',
      agent_type: 'memgpt_v2_agent',
      model: 'openai/gpt-4o',
      embedding: 'openai/text-embedding-3-small',
      memory_blocks: [{ label: 'human', value: 'Ada', limit: 100 }],
      tags: ['a', 'b'],
      description: 'a helper',
      metadata: { team: 'x' },
      tools: ['web_search'],
      tool_rules: [{ type: 'exit_loop', tool_name: 'send_message' }],
      context_window_limit: 32_000,
      max_tokens: 1024,
      include_base_tools: true,
    };
    const agent = newAgentFrom(body, 'openai/default-model', 'org-custom');
    expect(agent).toMatchObject({
      organizationId: 'org-custom',
      name: 'helper',
      system: 'You help.',
      agentType: 'memgpt_v2_agent',
      model: 'openai/gpt-4o',
      embedding: 'openai/text-embedding-3-small',
      memoryBlocks: [{ label: 'human', value: 'Ada', limit: 100 }],
      tags: ['a', 'b'],
      description: 'a helper',
      metadata: { team: 'x' },
      toolNames: ['memory_insert', 'memory_replace', 'conversation_search', 'web_search'],
      toolRules: [{ type: 'exit_loop', tool_name: 'send_message' }],
      extra: {},
    });
    expect(agent.llmConfig).toMatchObject({ model: 'gpt-4o', handle: 'openai/gpt-4o', context_window: 32_000, max_tokens: 1024 });
  });

  it('keeps unknown fields in extra and known ones out of it', () => {
    const agent = newAgentFrom(
      { name: 'n', model: 'openai/gpt-4o', enable_sleeptime: true, timezone: 'UTC', nested: { a: [1] } },
      'openai/default-model',
    );
    expect(agent.extra).toEqual({ enable_sleeptime: true, timezone: 'UTC', nested: { a: [1] } });
  });

  it('generates distinct names when none is given', () => {
    const names = new Set(Array.from({ length: 20 }, () => newAgentFrom({}, 'openai/m').name));
    expect(names.size).toBeGreaterThan(1);
  });
});

describe('memoryBlockProblems', () => {
  it('accepts unique labels within their limits', () => {
    expect(
      memoryBlockProblems([
        { label: 'human', value: 'abc', limit: 3 },
        { label: 'persona', value: 'x'.repeat(10_000) },
      ]),
    ).toEqual([]);
  });

  it('accepts no blocks', () => {
    expect(memoryBlockProblems([])).toEqual([]);
  });

  it('reports a value longer than its limit', () => {
    expect(memoryBlockProblems([{ label: 'human', value: 'abcd', limit: 3 }])).toEqual([
      'memory_blocks.0.value: 4 characters exceed the block limit of 3',
    ]);
  });

  it('reports each repeated label at the index that repeats it', () => {
    expect(
      memoryBlockProblems([
        { label: 'human', value: '' },
        { label: 'persona', value: '' },
        { label: 'human', value: '' },
        { label: 'human', value: '' },
      ]),
    ).toEqual(["memory_blocks.2.label: duplicate label 'human'", "memory_blocks.3.label: duplicate label 'human'"]);
  });

  it('reports every problem of every block in order', () => {
    expect(
      memoryBlockProblems([
        { label: 'a', value: 'toolong', limit: 2 },
        { label: 'a', value: 'toolong', limit: 5 },
      ]),
    ).toEqual([
      'memory_blocks.0.value: 7 characters exceed the block limit of 2',
      "memory_blocks.1.label: duplicate label 'a'",
      'memory_blocks.1.value: 7 characters exceed the block limit of 5',
    ]);
  });
});
