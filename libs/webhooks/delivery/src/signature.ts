import { createHmac } from 'node:crypto';

const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signature header value:
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. A `whsec_`-prefixed secret carries
 * base64 key bytes, as the spec's reference libraries expect; any other secret is used as its
 * UTF-8 bytes so operators can configure plain strings.
 */
export function signStandardWebhook(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): string {
  const key = secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
  const digest = createHmac('sha256', key)
    .update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8')
    .digest('base64');
  return `v1,${digest}`;
}
