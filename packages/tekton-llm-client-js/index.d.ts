// Types of @tekton/llm-client (the runtime is the plain ES module in src/).

export type Dialect = 'v1' | 'classic';
export type Generation = Dialect | 'adapter' | 'unknown';
export type Transport = 'http' | 'ws';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

/** The minimal WebSocket surface the client uses (the browser's, Node's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void, options?: any): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** First backoff ceiling in ms, doubled per retry (default 500). */
  backoffBase?: number;
  /** Largest backoff ceiling in ms (default 8000). */
  backoffCap?: number;
  /** Largest Retry-After wait honoured, in ms (default 30000). */
  retryAfterCap?: number;
}

export interface TektonLLMClientOptions extends RetryOptions {
  /** HTTP base URL; a path prefix is kept (default '/api/llm', resolved against the page in a browser). */
  rhetorUrl?: string;
  /** WebSocket URL (default: derived from an absolute rhetorUrl, else 'ws://localhost:8003/ws'). */
  rhetorWsUrl?: string;
  componentId?: string;
  /** Sent as `Authorization: Bearer …` on HTTP requests; never logged or put in error messages. */
  authToken?: string;
  /** Pin the Rhetor generation instead of detecting it once (default 'auto'). */
  dialect?: 'auto' | Dialect;
  /** 'auto' (HTTP, switching v1 to WebSocket when its HTTP chat is broken as shipped), 'http' or 'ws'. */
  transport?: 'auto' | Transport;
  /** Milliseconds: whole request, first stream event, and each later gap between events (default 30000). */
  timeout?: number;
  model?: string;
  provider?: string;
  contextId?: string;
  systemPrompt?: string;
  fetch?: FetchLike;
  /**
   * The WebSocket a v1 generation switches to when Rhetor's v1 HTTP chat is broken as shipped (default
   * `globalThis.WebSocket`: browsers and Node.js >= 22). On Node.js 20 pass one (`import WebSocket from 'ws'`);
   * without one that switch raises a ConfigurationError naming this option. `null` never switches: the HTTP
   * error surfaces as it is.
   */
  WebSocket?: WebSocketConstructor | null;
}

export interface RequestOptions {
  systemPrompt?: string;
  model?: string;
  /** Honoured by classic Rhetor only (v1 routes by task). */
  provider?: string;
  temperature?: number;
  maxTokens?: number;
  contextId?: string;
  taskType?: string;
  signal?: AbortSignal;
  /** Milliseconds, overriding the client's timeout for this call. */
  timeout?: number;
  /** Overrides the client's maxRetries for this call. */
  maxRetries?: number;
}

export interface LLMResponse {
  text: string;
  model: string | null;
  provider: string | null;
  contextId: string | null;
  usage: unknown;
  dialect: Dialect | null;
}

export interface StreamChunk {
  /** Text of this chunk; empty on the final chunk. */
  text: string;
  /** True on the last chunk only (exactly one per answer). */
  done: boolean;
  model: string | null;
  provider: string | null;
  contextId: string | null;
  dialect: Dialect;
}

export interface HealthInfo {
  status: string;
  healthy: boolean;
  generation: Generation;
  body: any;
}

export class TektonLLMClient {
  constructor(options?: TektonLLMClientOptions);
  readonly rhetorUrl: string;
  readonly rhetorWsUrl: string;
  readonly componentId: string;
  readonly activeTransport: Transport;
  getDialect(options?: { signal?: AbortSignal; timeout?: number }): Promise<Dialect>;
  health(options?: { signal?: AbortSignal; timeout?: number; maxRetries?: number }): Promise<HealthInfo>;
  generateText(prompt: string, options?: RequestOptions): Promise<LLMResponse>;
  chat(messages: ChatMessage[], options?: RequestOptions): Promise<LLMResponse>;
  streamText(
    prompt: string | ChatMessage[],
    callback: (chunk: StreamChunk) => void | Promise<void>,
    options?: RequestOptions,
  ): Promise<LLMResponse>;
  stream(input: string | ChatMessage[], options?: RequestOptions): AsyncGenerator<StreamChunk, void, undefined>;
  close(): void;
  toJSON(): Record<string, unknown>;
}

export interface WebSocketClientOptions {
  /** Full WebSocket URL (default 'ws://localhost:8003/ws'); `rhetorWsUrl` is an alias. */
  url?: string;
  rhetorWsUrl?: string;
  componentId?: string;
  contextId?: string;
  dialect?: Dialect;
  model?: string;
  provider?: string;
  /** Milliseconds to wait for each frame (default 30000). */
  timeout?: number;
  /** Milliseconds to wait for the socket to open (default 10000, at most `timeout`). */
  connectTimeout?: number;
  maxRetries?: number;
  backoffBase?: number;
  backoffCap?: number;
  WebSocket?: WebSocketConstructor | null;
}

export interface WebSocketRequestOptions extends RequestOptions {
  onChunk?: (chunk: StreamChunk) => void | Promise<void>;
}

export class TektonLLMWebSocketClient {
  constructor(options?: WebSocketClientOptions);
  readonly url: string;
  readonly dialect: Dialect;
  readonly connected: boolean;
  connect(options?: { signal?: AbortSignal }): Promise<void>;
  generate(input: string | ChatMessage[], options?: WebSocketRequestOptions): Promise<LLMResponse>;
  stream(input: string | ChatMessage[], options?: RequestOptions): AsyncGenerator<StreamChunk, void, undefined>;
  close(): void;
}

export interface TektonLLMErrorOptions {
  status?: number | null;
  dialect?: Dialect | null;
  details?: unknown;
  partialText?: string;
  cause?: unknown;
}

export class TektonLLMError extends Error {
  constructor(message?: string, options?: TektonLLMErrorOptions);
  /** HTTP status when there was one (200 for an error inside a 200 body). */
  readonly status: number | null;
  readonly dialect: Dialect | null;
  readonly details: unknown;
  /** Whether another attempt may succeed (the retry loop reads it). */
  readonly retryable: boolean;
  /** Text delivered before a stream failed. */
  partialText?: string;
}
export class ConnectionError extends TektonLLMError {}
export class TimeoutError extends TektonLLMError {
  readonly kind: 'request' | 'connect' | 'first_event' | 'idle' | 'frame';
}
export class AbortError extends TektonLLMError {}
export class ConfigurationError extends TektonLLMError {}
export class ProtocolError extends TektonLLMError {}
export class ProviderError extends TektonLLMError {}
export class EmptyAnswerError extends ProviderError {}
export class IncompleteStreamError extends TektonLLMError {
  partialText: string;
}
export class HTTPStatusError extends TektonLLMError {}
export class InvalidRequestError extends HTTPStatusError {}
export class ValidationError extends InvalidRequestError {
  readonly errors: unknown[];
}
export class AuthenticationError extends HTTPStatusError {}
export class PermissionDeniedError extends HTTPStatusError {}
export class NotFoundError extends HTTPStatusError {}
export class MethodNotAllowedError extends HTTPStatusError {}
export class RequestTimeoutError extends HTTPStatusError {}
export class ConflictError extends HTTPStatusError {}
export class RateLimitError extends HTTPStatusError {
  /** The server's Retry-After hint in milliseconds. */
  readonly retryAfter: number | null;
}
export class ServerError extends HTTPStatusError {
  readonly retryAfter: number | null;
}
export class ServiceUnavailableError extends ServerError {}

export function errorClassForStatus(status: number): typeof HTTPStatusError;
export function deriveWsUrl(rhetorUrl: string): string | null;
export function generationFromHealth(body: unknown): Generation;

export class SSEParser {
  push(text: string): Array<{ event: string; data: string }>;
  end(): Array<{ event: string; data: string }>;
}

export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryOptions>>;
export function isRetryable(error: unknown): boolean;
export function parseRetryAfter(value: string | null | undefined, now?: number): number | null;
export function backoffDelay(attempt: number, policy?: Required<RetryOptions>, random?: () => number): number;
export function retryDelay(error: unknown, attempt: number, policy?: Required<RetryOptions>, random?: () => number): number;
