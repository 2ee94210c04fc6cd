export type {
  SandboxSettings,
  SandboxLanguage,
  MemoryBlockView,
  ToolInvocation,
  ToolExecution,
  GeneratedToolSchema,
  DescribeResult,
} from './types';
export { readSandboxSettings } from './settings';
export { truncateReturnValue } from './limits';
export { ToolSandbox } from './tool-sandbox';
export { parseGoogleDocstring, annotationToSchema, schemaOfSource } from './python-schema';
