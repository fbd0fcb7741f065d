// The WebSocket client for both Rhetor generations. A socket serves one request at a time (Rhetor answers
// strictly in order and echoes no request id), every frame wait is bounded (there is no application heartbeat,
// and v1 goes silent forever after a non-JSON frame), and a socket is reused only while it is known to be clean:
// after a timeout, an abort, an early stop or a fatal classic ERROR it is discarded and the next call reconnects.

import { AnswerState, collect } from './chunks.js';
import { DIALECTS, parseJSONPayload } from './dialects.js';
import {
  ConfigurationError,
  ConnectionError,
  ProviderError,
  ServiceUnavailableError,
  TimeoutError,
  abortErrorFrom,
  throwIfAborted,
} from './errors.js';
import { buildLogicalRequest } from './request.js';
import { DEFAULT_RETRY_POLICY, retryStream } from './retry.js';

const OPEN = 1;
const DEFAULT_WS_URL = 'ws://localhost:8003/ws';

/** One open socket with an inbox, so frames that arrive between reads (classic typing-off) are not lost. */
class Connection {
  #socket;
  #inbox = [];
  #waiters = [];
  #closed = null;

  constructor(socket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => this.#deliver({ data: event.data }));
    socket.addEventListener('close', (event) => {
      this.#closed = `socket closed (code ${event?.code ?? 'unknown'})`;
      this.#deliver(null);
    });
    socket.addEventListener('error', () => {
      this.#closed ??= 'socket error';
      this.#deliver(null);
    });
  }

  /** Open a socket; resolves once it is open, rejects with ConnectionError, TimeoutError or AbortError. */
  static open(WebSocketImpl, url, { timeout, signal }) {
    return new Promise((resolve, reject) => {
      throwIfAborted(signal);
      let socket;
      try {
        socket = new WebSocketImpl(url);
      } catch (error) {
        reject(new ConnectionError(`cannot open WebSocket ${url}: ${error?.message ?? error}`, { cause: error }));
        return;
      }
      if ('binaryType' in socket) socket.binaryType = 'arraybuffer';
      let settled = false;
      const settle = (fn, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn(value);
      };
      const fail = (error) => {
        settle(reject, error);
        safeClose(socket);
      };
      const onAbort = () => fail(abortErrorFrom(signal));
      const timer = Number.isFinite(timeout)
        ? setTimeout(() => fail(new TimeoutError(`WebSocket ${url} did not open within ${timeout} ms`, { kind: 'connect' })), timeout)
        : null;
      signal?.addEventListener('abort', onAbort, { once: true });
      const connection = new Connection(socket);
      socket.addEventListener('open', () => settle(resolve, connection));
      socket.addEventListener('error', () => fail(new ConnectionError(`cannot connect to WebSocket ${url}`)));
      socket.addEventListener('close', (event) =>
        fail(new ConnectionError(`WebSocket ${url} closed before opening (code ${event?.code ?? 'unknown'})`)),
      );
    });
  }

  get usable() {
    return this.#closed === null && this.#socket.readyState === OPEN;
  }

  send(frame) {
    if (!this.usable) throw new ConnectionError(this.#closed ?? 'socket is not open');
    this.#socket.send(JSON.stringify(frame));
  }

  #deliver(item) {
    if (item !== null) this.#inbox.push(item);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** The next frame as a parsed object; bounded by `timeout` ms and the caller's signal. */
  async next(timeout, signal) {
    for (;;) {
      throwIfAborted(signal);
      if (this.#inbox.length > 0) {
        const { data } = this.#inbox.shift();
        return parseJSONPayload(decodeFrame(data), 'WebSocket frame');
      }
      if (this.#closed !== null) throw new ConnectionError(this.#closed);
      await new Promise((resolve, reject) => {
        let timer = null;
        const onAbort = () => {
          clearTimeout(timer);
          reject(abortErrorFrom(signal));
        };
        const wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (Number.isFinite(timeout)) {
          timer = setTimeout(() => {
            this.#waiters = this.#waiters.filter((w) => w !== wake);
            signal?.removeEventListener('abort', onAbort);
            reject(new TimeoutError(`no WebSocket frame within ${timeout} ms`, { kind: 'frame' }));
          }, timeout);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(wake);
      });
    }
  }

  close() {
    this.#closed ??= 'closed by the client';
    safeClose(this.#socket);
    this.#deliver(null);
  }
}

function safeClose(socket) {
  try {
    socket.close(1000);
  } catch {
    // Closing a socket that is still connecting may throw in some implementations; it is gone either way.
  }
}

function decodeFrame(data) {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder('utf-8').decode(data);
  return String(data);
}

function frameError(message, dialect) {
  const Cls = /not initialized/i.test(message) ? ServiceUnavailableError : ProviderError;
  return new Cls(message, { dialect });
}

export class TektonLLMWebSocketClient {
  #url;
  #WebSocket;
  #dialect;
  #defaults;
  #timeout;
  #connectTimeout;
  #policy;
  #connection = null;
  #connecting = null;
  #lock = Promise.resolve();

  constructor(options = {}) {
    const {
      url,
      rhetorWsUrl,
      componentId = 'default',
      contextId,
      dialect = 'v1',
      model,
      provider,
      timeout = 30000,
      connectTimeout = 10000,
      maxRetries = DEFAULT_RETRY_POLICY.maxRetries,
      backoffBase = DEFAULT_RETRY_POLICY.backoffBase,
      backoffCap = DEFAULT_RETRY_POLICY.backoffCap,
      WebSocket: WebSocketImpl,
    } = options;
    if (!DIALECTS[dialect]) throw new ConfigurationError(`dialect must be "v1" or "classic", got ${JSON.stringify(dialect)}`);
    this.#url = url ?? rhetorWsUrl ?? DEFAULT_WS_URL;
    this.#WebSocket = WebSocketImpl ?? globalThis.WebSocket ?? null;
    this.#dialect = DIALECTS[dialect];
    this.#defaults = { componentId, contextId, model, provider };
    this.#timeout = timeout;
    this.#connectTimeout = Math.min(connectTimeout, timeout);
    this.#policy = { ...DEFAULT_RETRY_POLICY, maxRetries, backoffBase, backoffCap, retryAfterCap: DEFAULT_RETRY_POLICY.retryAfterCap };
  }

  get url() {
    return this.#url;
  }

  get dialect() {
    return this.#dialect.name;
  }

  /** True while a socket is open and clean. */
  get connected() {
    return this.#connection?.usable === true;
  }

  /** Open the socket now (requests also connect lazily, and reconnect after a discarded socket). */
  async connect(options = {}) {
    await this.#ensureConnection(options.signal);
  }

  /** Close the socket; a later request opens a new one. */
  close() {
    this.#connection?.close();
    this.#connection = null;
  }

  /** Generate one answer and return it whole; `onChunk` sees every chunk on the way. */
  async generate(input, options = {}) {
    const response = await collect(this.stream(input, options), options.onChunk);
    return response;
  }

  /** Stream one answer as `{text, done, model, provider, contextId}` chunks; the last has `done: true`. */
  stream(input, options = {}) {
    const request = buildLogicalRequest(input, options, this.#defaults);
    return this.streamRequest(request, options);
  }

  /** Stream a prepared logical request (used by the HTTP client when it runs generation over WebSocket). */
  async *streamRequest(request, options = {}) {
    const { signal } = options;
    const policy = { ...this.#policy, ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }) };
    const release = await this.#acquire(signal);
    try {
      yield* retryStream(() => this.#attempt(request, options), policy, signal);
    } finally {
      release();
    }
  }

  async *#attempt(request, options) {
    const { signal } = options;
    const timeout = options.timeout ?? this.#timeout;
    const dialect = this.#dialect;
    const connection = await this.#ensureConnection(signal);
    const answer = new AnswerState(dialect.name);
    let clean = false;
    let lateError = null;
    try {
      connection.send(dialect.wsRequest(request));
      for (;;) {
        let frame;
        try {
          frame = await connection.next(timeout, signal);
        } catch (error) {
          throw answer.fail(error);
        }
        const parsed = dialect.parseWsFrame(frame);
        if (parsed.kind === 'skip') continue;
        if (parsed.kind === 'late-error') {
          lateError = parsed.message;
          continue;
        }
        if (parsed.kind === 'error') {
          clean = !parsed.discard;
          throw answer.fail(frameError(parsed.message, dialect.name));
        }
        if (parsed.kind === 'end' || parsed.chunk.done) {
          if (parsed.kind === 'chunk') answer.take(parsed.chunk);
          clean = true;
          if (lateError !== null) throw answer.fail(new ProviderError(lateError, { dialect: dialect.name }));
          yield answer.finish();
          return;
        }
        const chunk = answer.take(parsed.chunk);
        if (chunk) yield chunk;
      }
    } finally {
      if (!clean) this.#discard(connection);
    }
  }

  #discard(connection) {
    connection.close();
    if (this.#connection === connection) this.#connection = null;
  }

  async #ensureConnection(signal) {
    if (this.#connection?.usable) return this.#connection;
    this.#connection = null;
    if (!this.#WebSocket) {
      throw new ConfigurationError(
        'no WebSocket implementation: this runtime has no global WebSocket (Node.js 20 and 21 have none without ' +
          "--experimental-websocket); pass one as the `WebSocket` option, e.g. `import WebSocket from 'ws'`",
      );
    }
    this.#connecting ??= Connection.open(this.#WebSocket, this.#url, { timeout: this.#connectTimeout, signal }).finally(() => {
      this.#connecting = null;
    });
    this.#connection = await this.#connecting;
    return this.#connection;
  }

  /** Serialize requests: a socket answers one request at a time, in order. */
  async #acquire(signal) {
    let release;
    const mine = new Promise((resolve) => {
      release = resolve;
    });
    const previous = this.#lock;
    this.#lock = previous.then(() => mine);
    let onAbort = null;
    const aborted = new Promise((_, reject) => {
      onAbort = () => reject(abortErrorFrom(signal));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([previous, aborted]);
    } catch (error) {
      release();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return release;
  }
}
