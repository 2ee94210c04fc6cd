export {
  INVALID_URL_ERROR_PREFIX,
  REFUSED_ERROR_PREFIX,
  type WebhookAttemptResult,
} from './attempt-result';
export {
  closeWebhookConnections,
  DEFAULT_WEBHOOK_USER_AGENT,
  deliverWebhook,
  ForbiddenAddressError,
  lookupRefusingForbiddenAddresses,
  MAX_DRAINED_RESPONSE_BYTES,
  type WebhookRequest,
} from './deliver';
export { isForbiddenAddress } from './forbidden-address';
export {
  classifyAttempt,
  retryDelayMs,
  type AttemptClassification,
  type RetryBackoffPolicy,
} from './retry-policy';
export { signStandardWebhook } from './signature';
