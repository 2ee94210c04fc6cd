export { MCP_SERVER_TYPES, configRefusal, headersOf, readMcpSettings, stdioRefusal, urlRefusal, type McpRefusal, type McpServerConfig, type McpServerType, type McpSettings } from './mcp-config';
export { capped, resultText, toolDefinitions, type McpToolDefinition, type McpToolResult } from './mcp-result';
export { McpConnections, McpServerError, redactedUrl, type McpConnectionsOptions } from './mcp-connections';
export { ResponseTooLarge, guardedFetch } from './guarded-fetch';
