// The one error tree of the client, rooted at TektonLLMError, so callers can keep a single `instanceof` check.
// Every transport or HTTP failure maps to exactly one class carrying the HTTP status (when there is one) and a
// message that is safe to log: the auth token is scrubbed from every message before it is stored.

const MAX_MESSAGE = 500;

/** Replace every occurrence of a secret in `text` (messages built from server bodies may echo anything). */
export function redact(text, secret) {
  const value = String(text ?? '');
  if (!secret) return value;
  return value.split(String(secret)).join('***');
}

/** A copy of a JSON-like value with the secret replaced in every string (error details keep server bodies). */
export function redactDeep(value, secret) {
  if (!secret) return value;
  if (typeof value === 'string') return redact(value, secret);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secret));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, secret)]));
  }
  return value;
}

function truncate(text) {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

export class TektonLLMError extends Error {
  /** Whether another attempt may succeed; read by the retry loop. */
  get retryable() {
    return false;
  }

  constructor(message = '', options = {}) {
    super(truncate(String(message)), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? null;
    this.dialect = options.dialect ?? null;
    this.details = options.details ?? null;
    if (options.partialText !== undefined) this.partialText = options.partialText;
  }
}

/** Rhetor could not be reached, or the connection dropped before an answer. */
export class ConnectionError extends TektonLLMError {
  get retryable() {
    return true;
  }
}

/** A deadline passed: `kind` is `request`, `connect`, `first_event`, `idle` or `frame`. */
export class TimeoutError extends TektonLLMError {
  constructor(message = '', options = {}) {
    super(message, options);
    this.kind = options.kind ?? 'request';
  }

  get retryable() {
    return true;
  }
}

/** The caller aborted the request through its AbortSignal; `cause` is the signal's reason. */
export class AbortError extends TektonLLMError {}

/** A setting is missing or invalid (e.g. a relative URL where no page gives a base). */
export class ConfigurationError extends TektonLLMError {}

/** The server sent something that is not the protocol (malformed JSON, SSE or WebSocket frame). */
export class ProtocolError extends TektonLLMError {}

/** Rhetor answered, but reported an error in-band (200 body, SSE error event, WS error frame or chunk). */
export class ProviderError extends TektonLLMError {}

/** Rhetor finished an answer with no text at all (v1 with an unavailable provider): a detectable soft failure. */
export class EmptyAnswerError extends ProviderError {}

/**
 * A stream failed after it had delivered text (dropped, timed out, error event); `partialText` keeps what
 * arrived and `cause` the original error. Never retried: text is not repeated or spliced.
 */
export class IncompleteStreamError extends TektonLLMError {}

/** Rhetor answered with an HTTP error status; the subclass names the status family. */
export class HTTPStatusError extends TektonLLMError {}

/** 400: the request was rejected. */
export class InvalidRequestError extends HTTPStatusError {}

/** 422: FastAPI rejected the body; `errors` is its `detail` list. */
export class ValidationError extends InvalidRequestError {
  constructor(message = '', options = {}) {
    super(message, options);
    this.errors = Array.isArray(options.details) ? options.details : [];
  }
}

/** 401: missing or wrong credentials. */
export class AuthenticationError extends HTTPStatusError {}

/** 403: credentials valid but not allowed. */
export class PermissionDeniedError extends HTTPStatusError {}

/** 404: no such route or object (often the wrong Rhetor generation). */
export class NotFoundError extends HTTPStatusError {}

/** 405: the route exists with another method (often the wrong Rhetor generation). */
export class MethodNotAllowedError extends HTTPStatusError {}

/** 408: the server gave up waiting for the request; retried. */
export class RequestTimeoutError extends HTTPStatusError {
  get retryable() {
    return true;
  }
}

/** 409: conflicting state; retried because it is usually transient. */
export class ConflictError extends HTTPStatusError {
  get retryable() {
    return true;
  }
}

/** 429: too many requests; `retryAfter` is the server's hint in milliseconds, when given. */
export class RateLimitError extends HTTPStatusError {
  constructor(message = '', options = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter ?? null;
  }

  get retryable() {
    return true;
  }
}

/** 5xx: Rhetor failed (as shipped, several routes always do). */
export class ServerError extends HTTPStatusError {
  constructor(message = '', options = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter ?? null;
  }

  get retryable() {
    return true;
  }
}

/** 503 (or a "not initialized" frame): Rhetor is up but not ready. */
export class ServiceUnavailableError extends ServerError {}

const STATUS_CLASSES = new Map([
  [400, InvalidRequestError],
  [401, AuthenticationError],
  [403, PermissionDeniedError],
  [404, NotFoundError],
  [405, MethodNotAllowedError],
  [408, RequestTimeoutError],
  [409, ConflictError],
  [422, ValidationError],
  [429, RateLimitError],
  [503, ServiceUnavailableError],
]);

/** The error class for an HTTP status, so the mapping lives in one place. */
export function errorClassForStatus(status) {
  return STATUS_CLASSES.get(status) ?? (status >= 500 ? ServerError : HTTPStatusError);
}

/** Build the error for an HTTP status with an already safe message. */
export function errorForStatus(status, message, options = {}) {
  const Cls = errorClassForStatus(status);
  return new Cls(message, { ...options, status });
}

/** The AbortError for an aborted signal, keeping the signal's reason as `cause`. */
export function abortErrorFrom(signal) {
  return new AbortError('the request was aborted', { cause: signal?.reason });
}

/** Throw the AbortError now when `signal` is already aborted. */
export function throwIfAborted(signal) {
  if (signal?.aborted) throw abortErrorFrom(signal);
}
