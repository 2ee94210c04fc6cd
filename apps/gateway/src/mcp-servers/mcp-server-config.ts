import { HttpException, UnprocessableEntityException } from '@nestjs/common';
import { configRefusal, type McpServerConfig, type McpSettings } from '@lrs/mcp-client';
import { SECRET_MASK, type McpServerSnapshot, type NewMcpServer } from '@lrs/read-model';
import { isForbiddenAddress } from '@lrs/webhook-delivery';
import { MAX_MCP_ENTRIES, MAX_MCP_FIELD_CHARS, type McpServerConfigDto } from './mcp-servers.dto';

type ServerFields = Omit<NewMcpServer, 'organizationId' | 'serverName'>;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Control characters would split a header or cannot reach a process's environment.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** What an HTTP header value can carry (bytes, as Latin-1 characters): anything else fails at every request. */
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/**
 * A server's fields from a create or an update request: on an update, what is not given stays as
 * it is, and a masked secret (`********`, as the API shows it) keeps its stored value, so a client
 * that writes back a server it read does not erase its token. A change of type needs the new
 * type's whole configuration.
 */
export function serverFieldsOf(config: McpServerConfigDto, current: McpServerSnapshot | null): ServerFields {
  const type = typeOf(config, current);
  // Streamable HTTP and SSE take the same fields: a change between them keeps the address and secrets.
  const same = current && (current.serverType === type || (current.serverType !== 'stdio' && type !== 'stdio')) ? current : null;
  if (type === 'stdio') {
    if (config.server_url || config.auth_token || config.auth_header || config.custom_headers) throw invalid('a stdio server takes command, args and env, not server_url or headers');
    const command = config.command ?? same?.command;
    if (!command) throw invalid('config.command is required for a stdio server');
    return {
      serverType: 'stdio',
      command,
      args: config.args ?? same?.args ?? [],
      env: checkedMap('config.env', unmasked(config.env, same?.env ?? null), ENV_NAME) ?? same?.env ?? null,
      serverUrl: null,
      authHeader: null,
      authToken: null,
      customHeaders: null,
    };
  }
  if (config.command || config.args || config.env) throw invalid(`a ${type} server takes server_url and headers, not command, args or env`);
  const serverUrl = config.server_url ?? same?.serverUrl;
  if (!serverUrl) throw invalid(`config.server_url is required for a ${type} server`);
  const authToken = config.auth_token === SECRET_MASK ? (same?.authToken ?? null) : (config.auth_token ?? same?.authToken ?? null);
  if (authToken !== null && !HEADER_VALUE.test(authToken)) throw invalid('config.auth_token must be text an HTTP header can carry (no control or non-Latin-1 characters)');
  const authHeader = config.auth_header ?? same?.authHeader ?? null;
  if (authHeader !== null && !HEADER_NAME.test(authHeader)) throw invalid('config.auth_header must be an HTTP header name');
  return {
    serverType: type,
    serverUrl,
    authHeader,
    authToken,
    customHeaders: checkedMap('config.custom_headers', unmasked(config.custom_headers, same?.customHeaders ?? null), HEADER_NAME, HEADER_VALUE) ?? same?.customHeaders ?? null,
    command: null,
    args: null,
    env: null,
  };
}

function typeOf(config: McpServerConfigDto, current: McpServerSnapshot | null): McpServerSnapshot['serverType'] {
  if (config.mcp_server_type) return config.mcp_server_type;
  if (config.command) return 'stdio';
  if (current) return config.server_url && current.serverType === 'stdio' ? 'streamable_http' : current.serverType;
  return 'streamable_http';
}

/** The configuration both services judge (the worker again, before connecting). */
export function configOfFields(fields: ServerFields): McpServerConfig {
  return fields.serverType === 'stdio'
    ? { type: 'stdio', command: fields.command ?? '', args: fields.args ?? [], env: fields.env ?? {} }
    : { type: fields.serverType, url: fields.serverUrl ?? '', headers: {} };
}

/** The operator's rules, at registration: a private address or an unlisted command is refused here already. */
export function requireAllowed(fields: ServerFields, settings: McpSettings): void {
  const refusal = configRefusal(configOfFields(fields), settings, isForbiddenAddress);
  if (refusal) throw new HttpException({ detail: refusal.detail }, refusal.status);
}

/** Letta's MCP server as the API shows it: tokens, header values and environment values masked. */
export function toMcpServerView(server: McpServerSnapshot) {
  const mask = (values: Record<string, string> | null) => (values === null ? null : Object.fromEntries(Object.keys(values).map((key) => [key, SECRET_MASK])));
  if (server.serverType === 'stdio') {
    return { id: server.id, server_name: server.serverName, mcp_server_type: 'stdio', command: server.command, args: server.args ?? [], env: mask(server.env) };
  }
  return {
    id: server.id,
    server_name: server.serverName,
    mcp_server_type: server.serverType,
    server_url: server.serverUrl,
    auth_header: server.authHeader,
    auth_token: server.authToken === null ? null : SECRET_MASK,
    custom_headers: mask(server.customHeaders),
  };
}

/** Given values, a masked one replaced by the stored value of its key. */
function unmasked(given: Record<string, string> | null | undefined, stored: Record<string, string> | null): Record<string, string> | null {
  if (given === null || given === undefined) return null;
  return Object.fromEntries(Object.entries(given).map(([key, value]) => [key, value === SECRET_MASK && stored?.[key] !== undefined ? stored[key] : value]));
}

function checkedMap(field: string, values: Record<string, string> | null, names: RegExp, allowedValue?: RegExp): Record<string, string> | null {
  if (values === null) return null;
  const entries = Object.entries(values);
  if (entries.length > MAX_MCP_ENTRIES) throw invalid(`${field} has more than ${MAX_MCP_ENTRIES} entries`);
  for (const [key, value] of entries) {
    if (!names.test(key) || key.length > 256) throw invalid(`${field}: '${key.slice(0, 100)}' is not a valid name`);
    if (typeof value !== 'string' || value.length > MAX_MCP_FIELD_CHARS || CONTROL.test(value) || (allowedValue && !allowedValue.test(value))) throw invalid(`${field}.${key} must be a string of at most ${MAX_MCP_FIELD_CHARS} characters without control characters`);
  }
  return values;
}

function invalid(problem: string): UnprocessableEntityException {
  return new UnprocessableEntityException({ detail: `Invalid request: ${problem}` });
}
