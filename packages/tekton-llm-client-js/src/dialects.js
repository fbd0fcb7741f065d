// The two Rhetor generations, as data mappings and nothing else: each dialect builds the wire request for one
// logical request (rhetor-protocol.md §13) and maps responses, SSE chunks and WebSocket frames back to the
// client's shapes. Wire field names live only here.

import { ProtocolError } from './errors.js';

/**
 * @typedef {object} LogicalRequest
 * @property {{role: string, content: string}[]} messages  conversation without the system prompt
 * @property {boolean} single  the caller gave one prompt (not a message list)
 * @property {string} [systemPrompt]
 * @property {string} [model]
 * @property {string} [provider]
 * @property {number} [temperature]
 * @property {number} [maxTokens]
 * @property {string} contextId
 * @property {string} [taskType]
 * @property {string} component
 * @property {boolean} stream
 */

function compact(object) {
  const out = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

function lastUserMessage(messages) {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i].role === 'user') return messages[i].content;
  return messages.length > 0 ? messages[messages.length - 1].content : '';
}

function withSystem(request) {
  return request.systemPrompt ? [{ role: 'system', content: request.systemPrompt }, ...request.messages] : [...request.messages];
}

function text(value) {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function optionalString(value) {
  return typeof value === 'string' ? value : null;
}

/** Parse one SSE `data` payload or WebSocket text frame; `[DONE]` (other servers) reads as null. */
export function parseJSONPayload(data, where) {
  if (typeof data === 'string' && data.trim() === '[DONE]') return null;
  try {
    const value = JSON.parse(data);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ProtocolError(`${where}: expected a JSON object`);
    }
    return value;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`${where}: malformed JSON`, { cause: error });
  }
}

/** v1 (ckoons/Tekton 7a37122a): `/api/v1/chat[/stream]`, bare-JSON WebSocket ending in `stream_complete`. */
export const v1 = Object.freeze({
  name: 'v1',
  /** v1 streams end by close; a close is a success. */
  streamNeedsDone: false,

  httpRequest(request) {
    const body = compact({
      messages: withSystem(request),
      model: request.model,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      stream: request.stream,
      // context_id is deliberately not sent: no v1 context can exist as shipped (§4.4), history travels in messages.
    });
    return { path: request.stream ? '/api/v1/chat/stream' : '/api/v1/chat', body };
  },

  parseResponse(body) {
    if (body === null || typeof body !== 'object') throw new ProtocolError('v1 chat answer is not a JSON object');
    if (body.error) return { error: text(body.error) };
    return {
      text: text(body.content ?? body.message),
      model: optionalString(body.model),
      provider: optionalString(body.provider),
      contextId: optionalString(body.contextId ?? body.context_id),
      usage: body.usage ?? null,
    };
  },

  parseChunk(chunk) {
    if (chunk.error !== undefined && chunk.error !== null) return { error: text(chunk.error) };
    return {
      text: text(chunk.content),
      done: chunk.done === true,
      model: optionalString(chunk.model),
      provider: optionalString(chunk.provider),
      contextId: optionalString(chunk.context_id ?? chunk.contextId ?? chunk.context),
    };
  },

  wsRequest(request) {
    return compact({
      messages: request.messages,
      context_id: request.contextId,
      task_type: request.taskType,
      component: request.component,
      system_prompt: request.systemPrompt,
      model: request.model,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
    });
  },

  /**
   * One server frame → `{kind}`: `chunk`, `end` (stream_complete), `error` (request error, final, no terminator
   * follows), `late-error` (provider error chunk; a stream_complete still follows) or `skip`.
   */
  parseWsFrame(frame) {
    if (frame.type === 'stream_complete') return { kind: 'end' };
    if (frame.type === 'error') return { kind: 'error', message: text(frame.error) };
    if (frame.error !== undefined && frame.error !== null) return { kind: 'late-error', message: text(frame.error) };
    // `done` is false on every v1 chunk; only stream_complete ends an answer (a `complete_text` chunk does not).
    if ('content' in frame || 'done' in frame) return { kind: 'chunk', chunk: { ...v1.parseChunk(frame), done: false } };
    return { kind: 'skip' };
  },
});

function classicOptions(request) {
  const inner = compact({ temperature: request.temperature, max_tokens: request.maxTokens });
  const options = compact({
    provider: request.provider,
    model: request.model,
    options: Object.keys(inner).length > 0 ? inner : undefined,
  });
  return Object.keys(options).length > 0 ? options : undefined;
}

/** classic (ckoons/Rhetor ba8a65a): root routes, nested `options.options`, typed WebSocket envelope. */
export const classic = Object.freeze({
  name: 'classic',
  /** Classic streams end with an in-band `done: true`; a close before it is a truncated stream. */
  streamNeedsDone: true,

  httpRequest(request) {
    const common = {
      context_id: request.contextId,
      task_type: request.taskType,
      component: request.component,
      options: classicOptions(request),
    };
    // Single-message routes cannot carry a system prompt, so a prompt with one goes to /chat as a message list.
    if (request.single && !request.systemPrompt) {
      const message = lastUserMessage(request.messages);
      if (request.stream) return { path: '/stream', body: compact({ message, ...common }) };
      return { path: '/message', body: compact({ message, ...common, streaming: false }) };
    }
    return { path: '/chat', body: compact({ messages: withSystem(request), ...common, streaming: request.stream }) };
  },

  parseResponse(body) {
    if (body === null || typeof body !== 'object') throw new ProtocolError('classic answer is not a JSON object');
    if (body.error) return { error: text(body.error) };
    return {
      text: text(body.message ?? body.content),
      model: optionalString(body.model),
      provider: optionalString(body.provider),
      contextId: optionalString(body.context ?? body.context_id),
      usage: null,
    };
  },

  parseChunk(chunk) {
    if (chunk.error !== undefined && chunk.error !== null) return { error: text(chunk.error) };
    return {
      text: text(chunk.chunk ?? chunk.content),
      done: chunk.done === true,
      model: optionalString(chunk.model),
      provider: optionalString(chunk.provider),
      contextId: optionalString(chunk.context ?? chunk.context_id),
    };
  },

  wsRequest(request) {
    const chat = !(request.single && !request.systemPrompt);
    const payload = compact({
      message: chat ? undefined : lastUserMessage(request.messages),
      messages: chat ? withSystem(request) : undefined,
      context: request.contextId,
      task_type: request.taskType,
      component: request.component,
      streaming: true,
      options: classicOptions(request),
    });
    return {
      type: chat ? 'CHAT_REQUEST' : 'LLM_REQUEST',
      source: request.component,
      target: 'rhetor',
      timestamp: new Date().toISOString(),
      payload,
    };
  },

  /**
   * One envelope → `{kind}`. Typing on/off updates are skipped (the typing-off after an answer is consumed by
   * the next read loop). An ERROR other than "Unsupported request type" kills the server loop: `discard`.
   */
  parseWsFrame(frame) {
    const payload = frame.payload && typeof frame.payload === 'object' ? frame.payload : {};
    if (frame.type === 'ERROR') {
      const message = text(payload.error ?? 'unknown error');
      return { kind: 'error', message, discard: !message.startsWith('Unsupported request type') };
    }
    if (frame.type === 'UPDATE') {
      if ('isTyping' in payload || payload.status === 'typing') return { kind: 'skip' };
      if (payload.error !== undefined && payload.error !== null) return { kind: 'error', message: text(payload.error) };
      if ('chunk' in payload || 'done' in payload) return { kind: 'chunk', chunk: classic.parseChunk(payload) };
      return { kind: 'skip' };
    }
    if (frame.type === 'RESPONSE') {
      if (payload.status === 'registered' || frame.source === 'SYSTEM') return { kind: 'skip' };
      if (payload.error !== undefined && payload.error !== null) return { kind: 'error', message: text(payload.error) };
      const parsed = classic.parseResponse(payload);
      return { kind: 'chunk', chunk: { ...parsed, done: true } };
    }
    return { kind: 'skip' };
  },
});

export const DIALECTS = Object.freeze({ v1, classic });
