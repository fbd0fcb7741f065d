// @tekton/llm-client: the browser and Node client for Rhetor, Tekton's central LLM service. This module only
// re-exports; each concept lives in its own module.

export { TektonLLMClient, deriveWsUrl } from './client.js';
export { TektonLLMWebSocketClient } from './ws.js';
export { generationFromHealth } from './detect.js';
export { SSEParser } from './sse.js';
export { DEFAULT_RETRY_POLICY, backoffDelay, isRetryable, parseRetryAfter, retryDelay } from './retry.js';
export {
  AbortError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  EmptyAnswerError,
  HTTPStatusError,
  IncompleteStreamError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PermissionDeniedError,
  ProtocolError,
  ProviderError,
  RateLimitError,
  RequestTimeoutError,
  ServerError,
  ServiceUnavailableError,
  TektonLLMError,
  TimeoutError,
  ValidationError,
  errorClassForStatus,
} from './errors.js';
