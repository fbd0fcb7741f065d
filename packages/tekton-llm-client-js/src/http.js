// The fetch transport: URL joining that keeps a base path prefix, the bearer header, per-attempt deadlines, and
// the mapping of every non-2xx answer (JSON `detail` string or list, `error` bodies, text/plain 500s) to one
// error class. It knows nothing about Rhetor generations; the dialects do.

import { Deadline } from './deadline.js';
import { ConfigurationError, ProtocolError, errorForStatus, redact, redactDeep } from './errors.js';
import { parseRetryAfter } from './retry.js';
import { readSSE } from './sse.js';

const MAX_BODY_SNIPPET = 200;

/** `base` + `path`, keeping any path prefix of `base` (never resolved as an absolute reference). */
export function joinUrl(base, path) {
  return `${String(base).replace(/\/+$/, '')}/${String(path).replace(/^\/+/, '')}`;
}

/** A human message and details from an error body (FastAPI `detail` string or list, `error`, or plain text). */
export function describeErrorBody(text, contentType = '') {
  const trimmed = (text ?? '').trim();
  let parsed;
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || contentType.includes('json')) {
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const { detail, error } = parsed;
    if (typeof detail === 'string') return { message: detail, details: parsed };
    if (Array.isArray(detail)) {
      const parts = detail.map((item) => {
        if (item && typeof item === 'object') {
          const loc = Array.isArray(item.loc) ? item.loc.join('.') : '';
          return loc ? `${loc}: ${item.msg ?? ''}` : String(item.msg ?? JSON.stringify(item));
        }
        return String(item);
      });
      return { message: parts.join('; ') || 'request validation failed', details: detail };
    }
    if (detail !== undefined && detail !== null) return { message: JSON.stringify(detail), details: parsed };
    if (typeof error === 'string') return { message: error, details: parsed };
    if (error && typeof error === 'object' && typeof error.message === 'string') {
      return { message: error.message, details: parsed };
    }
    return { message: trimmed.slice(0, MAX_BODY_SNIPPET), details: parsed };
  }
  return { message: trimmed.slice(0, MAX_BODY_SNIPPET), details: null };
}

export class HttpTransport {
  #baseUrl;
  #authToken;
  #fetch;

  constructor({ baseUrl, authToken, fetch: fetchImpl }) {
    this.#baseUrl = baseUrl;
    this.#authToken = authToken ?? null;
    this.#fetch = fetchImpl ?? null;
  }

  /** The base URL (never carries the token, which travels only in a header). */
  get baseUrl() {
    return this.#baseUrl;
  }

  url(path) {
    const url = joinUrl(this.#baseUrl, path);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
    const page = globalThis.location?.href;
    if (!page) throw new ConfigurationError(`rhetorUrl must be absolute outside a browser page (got ${this.#baseUrl})`);
    return new URL(url, page).href;
  }

  #headers(json) {
    const headers = { accept: json ? 'application/json' : 'text/event-stream' };
    if (this.#authToken) headers.authorization = `Bearer ${this.#authToken}`;
    return headers;
  }

  async #send(method, path, body, deadline, accept) {
    const fetchImpl = this.#fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new ConfigurationError('no fetch implementation available');
    const headers = this.#headers(accept === 'json');
    const init = { method, headers, signal: deadline.signal };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    try {
      return await fetchImpl.call(globalThis, this.url(path), init);
    } catch (error) {
      throw this.#safe(deadline.mapError(error, `${method} ${path} failed`));
    }
  }

  /** The mapped error for a non-2xx response (reads its body under the same deadline). */
  async errorFor(response, method, path, deadline, dialect) {
    let text = '';
    try {
      text = await response.text();
    } catch (error) {
      throw this.#safe(deadline.mapError(error, `${method} ${path} failed`));
    }
    const { message, details } = describeErrorBody(text, response.headers.get('content-type') ?? '');
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    const summary = `${method} ${path} answered ${response.status}: ${message || response.statusText || 'error'}`;
    return errorForStatus(response.status, redact(summary, this.#authToken), {
      details: redactDeep(details, this.#authToken),
      dialect,
      retryAfter: retryAfter ?? undefined,
    });
  }

  /**
   * Send a request and parse the JSON answer. Statuses in `accept` are returned instead of thrown (detection
   * probes read 404/422 as facts, not failures).
   */
  async json(method, path, { body, signal, timeout, dialect, accept = [] } = {}) {
    const deadline = new Deadline(signal);
    deadline.arm(timeout, 'request');
    try {
      const response = await this.#send(method, path, body, deadline, 'json');
      if (!response.ok && !accept.includes(response.status)) {
        throw await this.errorFor(response, method, path, deadline, dialect);
      }
      let text;
      try {
        text = await response.text();
      } catch (error) {
        throw this.#safe(deadline.mapError(error, `${method} ${path} failed`));
      }
      let parsed = null;
      if (text.trim() !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          if (response.ok) {
            throw new ProtocolError(`${method} ${path} answered ${response.status} with a body that is not JSON`, {
              status: response.status,
              dialect,
            });
          }
        }
      }
      return { status: response.status, body: parsed, headers: response.headers };
    } finally {
      deadline.dispose();
    }
  }

  /**
   * POST a JSON body and yield its SSE events. `firstEventTimeout` bounds the wait for the headers and the first
   * event, `idleTimeout` each later gap; comments (`: ping`) do not count as events.
   */
  async *events(path, body, { signal, firstEventTimeout, idleTimeout, dialect } = {}) {
    const deadline = new Deadline(signal);
    deadline.arm(firstEventTimeout, 'first_event');
    let source = null;
    let finished = false;
    try {
      const response = await this.#send('POST', path, body, deadline, 'sse');
      if (!response.ok) throw await this.errorFor(response, 'POST', path, deadline, dialect);
      if (!response.body) {
        throw new ProtocolError(`POST ${path} answered ${response.status} without a body`, { dialect });
      }
      source = readSSE(response.body);
      for (;;) {
        let step;
        try {
          step = await source.next();
        } catch (error) {
          throw this.#safe(deadline.mapError(error, `stream from ${path} broke`));
        }
        if (step.done) {
          finished = true;
          return;
        }
        // Events parsed from one network read are handed out one by one: stop at once after an abort.
        if (deadline.signal.aborted) throw this.#safe(deadline.mapError(deadline.signal.reason, `stream from ${path}`));
        deadline.disarm();
        yield step.value;
        deadline.arm(idleTimeout, 'idle');
      }
    } finally {
      deadline.dispose();
      if (!finished) {
        // Stopped early (caller break, abort, error event): release the connection instead of draining it.
        await source?.return(undefined).catch(() => {});
        deadline.controller.abort();
      }
    }
  }

  #safe(error) {
    if (this.#authToken && error.message.includes(this.#authToken)) error.message = redact(error.message, this.#authToken);
    return error;
  }
}
