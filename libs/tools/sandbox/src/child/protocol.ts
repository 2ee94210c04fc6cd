/** Messages between the pool (parent) and a sandbox child, over the fork IPC channel (JSON). */

export interface ChildConfig {
  /** Absolute directory of the pyodide package (ends with a separator). */
  pyodideDir: string;
  /** Absolute entry files of quickjs-emscripten-core and the wasm variant. */
  quickjsCore: string;
  quickjsVariant: string;
  networkEnabled: boolean;
  allowPrivateNetworks: boolean;
  maxOutputChars: number;
  /** QuickJS heap limit per call. */
  jsMemoryLimitBytes: number;
}

export type ChildRequest =
  | {
      type: 'run';
      id: number;
      mode: 'tool' | 'code';
      language: 'python' | 'javascript';
      /** JavaScript arrives already compiled to CommonJS (types stripped) by the parent. */
      sourceCode: string;
      functionName: string;
      args: Record<string, unknown>;
      env: Record<string, string>;
      agent: { id: string; name: string; blocks: unknown[] } | null;
      returnCharLimit: number;
      timeoutMs: number;
    }
  | { type: 'describe'; id: number; sourceCode: string }
  | { type: 'warm'; id: number; language: 'python' | 'javascript' };

export interface ChildRunResult {
  status: 'success' | 'error';
  value: string;
  errorType: string | null;
  traceback: string | null;
  memoryUpdates: { label: string; value: string }[];
  stdout: string[];
  stderr: string[];
  /** The call loaded Pyodide or QuickJS first. */
  cold: boolean;
}

export type ChildReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ChildRunResult }
  | { type: 'described'; id: number; parsed: unknown }
  | { type: 'warmed'; id: number; cold: boolean }
  | { type: 'failed'; id: number; message: string };
