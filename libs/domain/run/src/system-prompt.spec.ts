import { CORE_MEMORY_PLACEHOLDER, DEFAULT_SYSTEM_PROMPT, compileSystemPrompt, type PromptBlock } from './system-prompt';

const block = (overrides: Partial<PromptBlock> = {}): PromptBlock => ({
  label: 'human',
  value: 'Name: Ada',
  limit: 5000,
  description: null,
  readOnly: false,
  ...overrides,
});
const metadata = { agentId: 'agent-123', previousMessageCount: 4 };

describe('compileSystemPrompt', () => {
  it('replaces the placeholder with the memory section, keeping the text around it', () => {
    const prompt = compileSystemPrompt(`Before\n${CORE_MEMORY_PLACEHOLDER}\nAfter`, [block()], metadata);
    expect(prompt).not.toContain(CORE_MEMORY_PLACEHOLDER);
    expect(prompt.startsWith('Before\n<memory_blocks>\n')).toBe(true);
    expect(prompt.endsWith('</memory_metadata>\nAfter')).toBe(true);
  });

  it('replaces every occurrence of the placeholder', () => {
    const prompt = compileSystemPrompt(`${CORE_MEMORY_PLACEHOLDER}|${CORE_MEMORY_PLACEHOLDER}`, [], metadata);
    expect(prompt.split('<memory_blocks>')).toHaveLength(3);
    expect(prompt).not.toContain(CORE_MEMORY_PLACEHOLDER);
  });

  it('inserts block values literally, including replacement patterns such as $&', () => {
    const prompt = compileSystemPrompt(`[${CORE_MEMORY_PLACEHOLDER}]`, [block({ value: "cost: $& and $1 and $'" })], metadata);
    expect(prompt).toContain("<value>\ncost: $& and $1 and $'\n</value>");
  });

  it('appends the memory after a blank line when the template has no placeholder', () => {
    const prompt = compileSystemPrompt('Be brief.', [block()], metadata);
    expect(prompt.startsWith('Be brief.\n\n<memory_blocks>\n')).toBe(true);
  });

  it('appends to the default prompt, which has no placeholder', () => {
    expect(DEFAULT_SYSTEM_PROMPT).not.toContain(CORE_MEMORY_PLACEHOLDER);
    expect(compileSystemPrompt(DEFAULT_SYSTEM_PROMPT, [], metadata).startsWith(`${DEFAULT_SYSTEM_PROMPT}\n\n`)).toBe(true);
  });

  it('renders a block exactly', () => {
    const prompt = compileSystemPrompt(CORE_MEMORY_PLACEHOLDER, [block({ label: 'persona', value: 'I am kind.', limit: 200 })], metadata);
    expect(prompt).toBe(
      [
        '<memory_blocks>',
        'The following memory blocks are currently engaged in your core memory unit:',
        '',
        '<persona>',
        '<metadata>',
        '- chars_current=10',
        '- chars_limit=200',
        '</metadata>',
        '<value>',
        'I am kind.',
        '</value>',
        '</persona>',
        '',
        '</memory_blocks>',
        '',
        '<memory_metadata>',
        '- AGENT_ID: agent-123',
        '- 4 previous messages between you and the user are stored in recall memory',
        '</memory_metadata>',
      ].join('\n'),
    );
  });

  it('marks read-only blocks and leaves writable ones unmarked', () => {
    const prompt = compileSystemPrompt(
      CORE_MEMORY_PLACEHOLDER,
      [block({ label: 'policy', readOnly: true }), block({ label: 'notes', readOnly: false })],
      metadata,
    );
    expect(prompt).toContain('<policy>\n<metadata>\n- read_only=true\n- chars_current=');
    expect(prompt).toContain('<notes>\n<metadata>\n- chars_current=');
    expect(prompt.match(/read_only=true/g)).toHaveLength(1);
  });

  it('counts chars_current from the value and reports the limit', () => {
    const prompt = compileSystemPrompt(CORE_MEMORY_PLACEHOLDER, [block({ value: 'x'.repeat(42), limit: 77 })], metadata);
    expect(prompt).toContain('- chars_current=42\n- chars_limit=77\n');
  });

  it('reports chars_current=0 for an empty value', () => {
    expect(compileSystemPrompt('', [block({ value: '' })], metadata)).toContain('- chars_current=0\n');
  });

  it('includes a description only when the block has one', () => {
    const withDescription = compileSystemPrompt('', [block({ description: 'Facts about the user' })], metadata);
    expect(withDescription).toContain('<human>\n<description>\nFacts about the user\n</description>\n<metadata>');
    expect(compileSystemPrompt('', [block({ description: null })], metadata)).not.toContain('<description>');
    expect(compileSystemPrompt('', [block({ description: '' })], metadata)).not.toContain('<description>');
  });

  it('keeps blocks in the given order', () => {
    const prompt = compileSystemPrompt('', [block({ label: 'zeta' }), block({ label: 'alpha' })], metadata);
    expect(prompt.indexOf('<zeta>')).toBeLessThan(prompt.indexOf('<alpha>'));
  });

  it('states the agent id and previous message count', () => {
    const prompt = compileSystemPrompt('', [], { agentId: 'agent-xyz', previousMessageCount: 0 });
    expect(prompt).toContain('- AGENT_ID: agent-xyz\n');
    expect(prompt).toContain('- 0 previous messages between you and the user are stored in recall memory\n');
  });
});
