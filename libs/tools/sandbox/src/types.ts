/** The sandbox's public types: what a caller hands in and gets back. */

export interface SandboxSettings {
  /** Child processes in the pool. */
  processes: number;
  /** Default (and largest) wall-clock limit of a call. */
  timeoutMs: number;
  /** Resident memory a child may reach during a call before it is killed. */
  memoryLimitBytes: number;
  /** stdout and stderr (each) and the return value are cut to this many characters. */
  maxOutputChars: number;
  network: { enabled: boolean; allowPrivateNetworks: boolean };
  /** Calls that may wait for a child before new ones are refused with `Overloaded` (default processes * 32). */
  maxWaiting?: number;
}

export type SandboxLanguage = 'python' | 'javascript' | 'typescript';

export interface MemoryBlockView {
  label: string;
  value: string;
  limit: number;
  readOnly: boolean;
  description: string | null;
}

export interface ToolInvocation {
  language: SandboxLanguage;
  sourceCode: string;
  /** The function in sourceCode to call (python: a def; js/ts: a function declaration or export). */
  functionName: string;
  /** Keyword arguments. */
  args: Record<string, unknown>;
  /** The agent's secrets: os.environ / process.env inside the call, nothing else. */
  env: Record<string, string>;
  agent?: { id: string; name: string; blocks: MemoryBlockView[] } | null;
  /** Who the call runs for (the agent id): a child that ran Python for one affinity serves no other. */
  affinity: string;
  /** The smaller of this and settings.timeoutMs applies. */
  timeoutMs?: number;
  returnCharLimit?: number;
  /** Abort = kill the call (the run was cancelled). */
  signal?: AbortSignal;
}

export interface ToolExecution {
  status: 'success' | 'error';
  /** The result as text (str() of non-strings, JSON for dicts, as Letta does), or "ErrorType: message". */
  returnValue: string;
  /** The exception's class name, or one of TimeoutError, MemoryError, Overloaded, Cancelled, SandboxError. */
  errorType: string | null;
  stdout: string[];
  stderr: string[];
  /** agent_state.memory.update_block_value calls, in order. */
  memoryUpdates: { label: string; value: string }[];
  durationMs: number;
  /** The call had to start an interpreter. */
  cold: boolean;
}

export interface GeneratedToolSchema {
  name: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

export type DescribeResult = { ok: true; schema: GeneratedToolSchema } | { ok: false; problem: string };
