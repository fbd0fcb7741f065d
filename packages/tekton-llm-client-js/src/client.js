// TektonLLMClient: the public HTTP client. One path per request: resolve the Rhetor generation (pinned, or
// detected once and cached), let its dialect build the request, send it over fetch (or over WebSocket once the
// client has switched), retry by the shared policy, and map everything that comes back to one response or chunk
// shape and one error tree.

import { AnswerState, collect } from './chunks.js';
import { detectDialect, generationFromHealth } from './detect.js';
import { DIALECTS, parseJSONPayload } from './dialects.js';
import {
  ConfigurationError,
  ConnectionError,
  EmptyAnswerError,
  HTTPStatusError,
  ProviderError,
  abortErrorFrom,
  redact,
} from './errors.js';
import { HttpTransport } from './http.js';
import { buildLogicalRequest } from './request.js';
import { DEFAULT_RETRY_POLICY, TransportSwitch, retryStream, withRetries } from './retry.js';
import { TektonLLMWebSocketClient } from './ws.js';

const DEFAULT_HTTP_URL = '/api/llm';
const DEFAULT_WS_URL = 'ws://localhost:8003/ws';
/** Statuses of a v1 chat route that mean "this route is broken here", not "try again later". */
const SWITCH_STATUSES = new Set([404, 405, 500, 501]);
/** Why a v1 generation cannot continue over WebSocket, and the two ways out. */
const NO_WEBSOCKET =
  "Rhetor's v1 HTTP chat failed (as the shipped v1 Rhetor's does) and the client would continue over WebSocket, " +
  'but this runtime has no global WebSocket (Node.js < 22): pass one as the `WebSocket` option ' +
  "(`import WebSocket from 'ws'`), or `WebSocket: null` to get the HTTP error as it is";

/** `http(s)://host[/prefix]` → `ws(s)://host[/prefix]/ws`; null for a relative URL. */
export function deriveWsUrl(rhetorUrl) {
  const match = /^(https?):\/\/(.*)$/i.exec(String(rhetorUrl));
  if (!match) return null;
  const scheme = match[1].toLowerCase() === 'https' ? 'wss' : 'ws';
  return `${scheme}://${match[2].replace(/\/+$/, '')}/ws`;
}

/** `promise`, or an AbortError as soon as `signal` aborts (the promise itself keeps running for others). */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortErrorFrom(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortErrorFrom(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class TektonLLMClient {
  #http;
  #authToken;
  #rhetorUrl;
  #wsUrl;
  #WebSocket;
  #wsOptOut;
  #ws = null;
  #dialectChoice;
  #dialect = null;
  #detecting = null;
  #transport;
  #useWs;
  #policy;
  #timeout;
  #defaults;

  constructor(options = {}) {
    const {
      rhetorUrl = DEFAULT_HTTP_URL,
      rhetorWsUrl,
      componentId = 'default',
      authToken,
      dialect = 'auto',
      transport = 'auto',
      timeout = 30000,
      maxRetries = DEFAULT_RETRY_POLICY.maxRetries,
      backoffBase = DEFAULT_RETRY_POLICY.backoffBase,
      backoffCap = DEFAULT_RETRY_POLICY.backoffCap,
      retryAfterCap = DEFAULT_RETRY_POLICY.retryAfterCap,
      model,
      provider,
      contextId,
      systemPrompt,
      fetch: fetchImpl,
      WebSocket: WebSocketImpl,
    } = options;
    if (!['auto', 'v1', 'classic'].includes(dialect)) {
      throw new ConfigurationError(`dialect must be "auto", "v1" or "classic", got ${JSON.stringify(dialect)}`);
    }
    if (!['auto', 'http', 'ws'].includes(transport)) {
      throw new ConfigurationError(`transport must be "auto", "http" or "ws", got ${JSON.stringify(transport)}`);
    }
    if (!(timeout > 0)) throw new ConfigurationError('timeout must be a positive number of milliseconds');
    if (!(maxRetries >= 0)) throw new ConfigurationError('maxRetries must be >= 0');
    this.#rhetorUrl = String(rhetorUrl).replace(/\/+$/, '');
    this.#wsUrl = rhetorWsUrl ?? deriveWsUrl(this.#rhetorUrl) ?? DEFAULT_WS_URL;
    this.#http = new HttpTransport({ baseUrl: this.#rhetorUrl, authToken, fetch: fetchImpl });
    this.#authToken = authToken ? String(authToken) : null;
    this.#WebSocket = WebSocketImpl ?? globalThis.WebSocket ?? null;
    // `WebSocket: null` says "never switch": the HTTP error surfaces as it is.
    this.#wsOptOut = WebSocketImpl === null;
    this.#dialectChoice = dialect;
    this.#transport = transport;
    this.#useWs = transport === 'ws';
    this.#policy = Object.freeze({ maxRetries, backoffBase, backoffCap, retryAfterCap });
    this.#timeout = timeout;
    this.#defaults = { componentId, contextId, model, provider, systemPrompt };
  }

  get rhetorUrl() {
    return this.#rhetorUrl;
  }

  get rhetorWsUrl() {
    return this.#wsUrl;
  }

  get componentId() {
    return this.#defaults.componentId;
  }

  /** The transport generation currently runs over: `http`, or `ws` after a switch (or when pinned). */
  get activeTransport() {
    return this.#useWs ? 'ws' : 'http';
  }

  /** The Rhetor generation, pinned or detected once (§11.2) and cached; re-detected after connection failures. */
  async getDialect(options = {}) {
    if (this.#dialectChoice !== 'auto') return this.#dialectChoice;
    if (this.#dialect) return this.#dialect;
    // One detection is shared by concurrent callers, so it runs under its own deadline, not one caller's signal;
    // each caller still stops waiting as soon as its own signal aborts.
    this.#detecting ??= detectDialect(this.#http, { timeout: options.timeout ?? this.#timeout })
      .then((name) => {
        this.#dialect = name;
        return name;
      })
      .finally(() => {
        this.#detecting = null;
      });
    return untilAborted(this.#detecting, options.signal);
  }

  /**
   * `GET /health`: `{status, healthy, generation, body}`; a connection failure raises ConnectionError. A probe
   * answers now, so it is not retried unless `maxRetries` is given (as in the Python client).
   */
  async health(options = {}) {
    const { signal } = options;
    const result = await this.#scrub(withRetries(
      () => this.#guard(() => this.#http.json('GET', '/health', { signal, timeout: options.timeout ?? this.#timeout })),
      { ...this.#policy, maxRetries: options.maxRetries ?? 0 },
      signal,
    ));
    const body = result.body;
    const status = typeof body?.status === 'string' ? body.status : 'unknown';
    return { status, healthy: status === 'healthy', generation: generationFromHealth(body), body };
  }

  /** One prompt → one answer `{text, model, provider, contextId, usage, dialect}`. */
  async generateText(prompt, options = {}) {
    if (typeof prompt !== 'string') throw new TypeError('prompt must be a string');
    return this.#complete(this.#request(prompt, options), options);
  }

  /** A message list (`{role, content}`; a leading system message is the system prompt) → one answer. */
  async chat(messages, options = {}) {
    if (!Array.isArray(messages)) throw new TypeError('messages must be an array of {role, content}');
    return this.#complete(this.#request(messages, options), options);
  }

  /** Stream an answer into `callback(chunk)`; resolves with the whole answer once the stream is done. */
  async streamText(prompt, callback, options = {}) {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    return collect(this.stream(prompt, options), callback);
  }

  /**
   * Stream an answer as `{text, done, model, provider, contextId, dialect}` chunks; the last one has `done: true`
   * and empty text. Failures before the first chunk are retried; after it they are final.
   */
  stream(input, options = {}) {
    const request = this.#request(input, options);
    return this.#scrubStream(retryStream(() => this.#streamAttempt(request, options), this.#policyFor(options), options.signal));
  }

  /** Close the WebSocket, if one was opened. The client stays usable (a later call reconnects). */
  close() {
    this.#ws?.close();
  }

  toJSON() {
    return {
      rhetorUrl: this.#rhetorUrl,
      rhetorWsUrl: this.#wsUrl,
      componentId: this.#defaults.componentId,
      dialect: this.#dialect ?? this.#dialectChoice,
      transport: this.activeTransport,
      authToken: this.#authToken ? '***' : null,
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `TektonLLMClient ${JSON.stringify(this.toJSON())}`;
  }

  /** Errors carry server text, which could echo anything: the token never leaves in a message. */
  async #scrub(promise) {
    try {
      return await promise;
    } catch (error) {
      if (this.#authToken && error instanceof Error && error.message.includes(this.#authToken)) {
        error.message = redact(error.message, this.#authToken);
      }
      throw error;
    }
  }

  async *#scrubStream(chunks) {
    try {
      yield* chunks;
    } catch (error) {
      await this.#scrub(Promise.reject(error));
    }
  }

  #request(input, options) {
    return buildLogicalRequest(input, options, this.#defaults);
  }

  #policyFor(options) {
    return options.maxRetries === undefined ? this.#policy : { ...this.#policy, maxRetries: options.maxRetries };
  }

  /** Run a step; forget the detected generation when Rhetor could not be reached (it may come back as another). */
  async #guard(step) {
    try {
      return await step();
    } catch (error) {
      if (error instanceof ConnectionError) this.#dialect = null;
      throw error;
    }
  }

  #wsClient(dialect) {
    if (this.#ws?.dialect !== dialect) {
      this.#ws?.close();
      this.#ws = new TektonLLMWebSocketClient({
        url: this.#wsUrl,
        componentId: this.#defaults.componentId,
        dialect,
        timeout: this.#timeout,
        maxRetries: 0,
        WebSocket: this.#WebSocket,
      });
    }
    return this.#ws;
  }

  /**
   * Whether a failed v1 HTTP generation should move to WebSocket for the client's lifetime (as the Python client
   * does): the route is broken as shipped (404, 405, 500, 501) or answered an in-band error before any text.
   * Without a WebSocket implementation that switch cannot happen, and silently surfacing the HTTP error would
   * leave a Node 20 user with a 500 and no hint: that is a ConfigurationError naming the option (the HTTP error
   * is its cause), unless the caller opted out with `WebSocket: null`.
   */
  #shouldSwitch(dialect, error) {
    if (dialect !== 'v1' || this.#transport !== 'auto' || this.#useWs) return false;
    const broken =
      error instanceof HTTPStatusError
        ? SWITCH_STATUSES.has(error.status)
        : error instanceof ProviderError && !(error instanceof EmptyAnswerError);
    if (!broken || this.#wsOptOut) return false;
    if (!this.#WebSocket) {
      throw new ConfigurationError(`${NO_WEBSOCKET} (${error.name}: ${error.message})`, { cause: error, dialect });
    }
    return true;
  }

  #switchToWs(cause) {
    this.#useWs = true;
    return new TransportSwitch(cause);
  }

  #complete(request, options) {
    const { signal } = options;
    const timeout = options.timeout ?? this.#timeout;
    return this.#scrub(withRetries(
      () =>
        this.#guard(async () => {
          const dialect = await this.getDialect({ signal, timeout });
          if (this.#useWs) {
            return collect(this.#wsClient(dialect).streamRequest(request, { signal, timeout, maxRetries: 0 }));
          }
          try {
            return await this.#completeHttp(dialect, request, signal, timeout);
          } catch (error) {
            if (this.#shouldSwitch(dialect, error)) throw this.#switchToWs(error);
            throw error;
          }
        }),
      this.#policyFor(options),
      signal,
    ));
  }

  async #completeHttp(dialectName, request, signal, timeout) {
    const dialect = DIALECTS[dialectName];
    const { path, body } = dialect.httpRequest({ ...request, stream: false });
    const response = await this.#http.json('POST', path, { body, signal, timeout, dialect: dialectName });
    const parsed = dialect.parseResponse(response.body);
    if (parsed.error !== undefined) throw new ProviderError(parsed.error, { dialect: dialectName, status: response.status });
    if (parsed.text === '') throw new EmptyAnswerError('Rhetor returned an empty answer', { dialect: dialectName });
    return { ...parsed, dialect: dialectName };
  }

  async *#streamAttempt(request, options) {
    const { signal } = options;
    const timeout = options.timeout ?? this.#timeout;
    const dialectName = await this.#guard(() => this.getDialect({ signal, timeout }));
    if (this.#useWs) {
      yield* this.#wsClient(dialectName).streamRequest(request, { signal, timeout, maxRetries: 0 });
      return;
    }
    const dialect = DIALECTS[dialectName];
    const { path, body } = dialect.httpRequest({ ...request, stream: true });
    const answer = new AnswerState(dialectName);
    let sawDone = false;
    try {
      const events = this.#http.events(path, body, {
        signal,
        firstEventTimeout: timeout,
        idleTimeout: timeout,
        dialect: dialectName,
      });
      for await (const event of events) {
        const payload = parseJSONPayload(event.data, `SSE event from ${path}`);
        if (payload === null) {
          // `[DONE]` from a non-Rhetor server: the end, without a second "done".
          sawDone = true;
          break;
        }
        const parsed = dialect.parseChunk(payload);
        if (parsed.error !== undefined) throw new ProviderError(parsed.error, { dialect: dialectName });
        const chunk = answer.take(parsed);
        if (chunk) yield chunk;
        if (parsed.done && dialect.streamNeedsDone) {
          sawDone = true;
          break;
        }
      }
      if (dialect.streamNeedsDone && !sawDone) {
        // Classic ends with `done: true`; a close before it is a truncated stream (retried if nothing arrived).
        throw new ConnectionError(`stream from ${path} closed before its done chunk`, { dialect: dialectName });
      }
    } catch (error) {
      if (error instanceof ConnectionError) this.#dialect = null;
      if (answer.text === '' && this.#shouldSwitch(dialectName, error)) throw this.#switchToWs(error);
      throw answer.fail(error);
    }
    yield answer.finish();
  }
}
