// Pure pieces, checked on values: SSE framing, retry arithmetic, error mapping, URL handling, dialect mapping.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { classic, v1 } from '../src/dialects.js';
import {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  HTTPStatusError,
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
  errorForStatus,
  redact,
} from '../src/errors.js';
import { describeErrorBody, joinUrl } from '../src/http.js';
import { deriveWsUrl } from '../src/client.js';
import { buildLogicalRequest } from '../src/request.js';
import { backoffDelay, isRetryable, parseRetryAfter, retryDelay } from '../src/retry.js';
import { SSEParser } from '../src/sse.js';

function parseAll(pieces) {
  const parser = new SSEParser();
  const events = [];
  for (const piece of pieces) events.push(...parser.push(piece));
  events.push(...parser.end());
  return events;
}

describe('SSEParser', () => {
  const expected = [
    { event: 'message', data: '{"a": 1}' },
    { event: 'message', data: '{"b": 2}' },
  ];

  test('CRLF, LF and lone CR line ends give the same events', () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      const text = `data: {"a": 1}${eol}${eol}data: {"b": 2}${eol}${eol}`;
      assert.deepEqual(parseAll([text]), expected, JSON.stringify(eol));
    }
  });

  test('a CRLF split across two network chunks is one line end', () => {
    assert.deepEqual(parseAll(['data: {"a": 1}\r', '\n\r', '\ndata: {"b": 2}\r\n\r\n']), expected);
  });

  test('byte-by-byte feeding parses the same as one piece', () => {
    const text = 'event: message\r\ndata: {"a": 1}\r\n\r\n: ping - 2025-06-16 10:00:15+00:00\r\n\r\ndata: {"b": 2}\r\n\r\n';
    assert.deepEqual(parseAll([...text]), expected);
  });

  test('comments (": ping") are never data and never end the stream', () => {
    const events = parseAll([': ping - now\r\n\r\n', 'data: {"a": 1}\r\n\r\n', ': ping\r\n\r\n']);
    assert.deepEqual(events, [expected[0]]);
  });

  test('event names are kept, multi-line data joins with LF, a missing space after the colon is fine', () => {
    const events = parseAll(['event: update\ndata:line one\ndata: line two\n\n']);
    assert.deepEqual(events, [{ event: 'update', data: 'line one\nline two' }]);
  });

  test('a final event without its blank line is still delivered at EOF', () => {
    assert.deepEqual(parseAll(['data: {"a": 1}\r\n\r\ndata: {"b": 2}']), expected);
  });

  test('a leading BOM is dropped; id and retry fields are ignored', () => {
    assert.deepEqual(parseAll(['\uFEFFid: 7\nretry: 10\ndata: {"a": 1}\n\n']), [expected[0]]);
  });
});

describe('retry policy', () => {
  test('Retry-After as seconds or HTTP date, null when unreadable', () => {
    const now = Date.parse('2025-06-16T10:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Mon, 16 Jun 2025 10:00:07 GMT', now), 7000);
    assert.equal(parseRetryAfter('Mon, 16 Jun 2025 09:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  test('backoff ceiling doubles and is capped; full jitter scales it by the random draw', () => {
    const policy = { backoffBase: 100, backoffCap: 1000, maxRetries: 5, retryAfterCap: 5000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 1)),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(backoffDelay(1, policy, () => 0.5), 100);
    assert.equal(backoffDelay(9, policy, () => 0.25), 250);
    assert.equal(backoffDelay(3, policy, () => 0), 0);
  });

  test('a Retry-After hint wins over backoff but is bounded by retryAfterCap', () => {
    const policy = { backoffBase: 100, backoffCap: 1000, maxRetries: 3, retryAfterCap: 2000 };
    assert.equal(retryDelay(new RateLimitError('x', { retryAfter: 1500 }), 0, policy, () => 0), 1500);
    assert.equal(retryDelay(new RateLimitError('x', { retryAfter: 60000 }), 0, policy, () => 0), 2000);
    assert.equal(retryDelay(new ServerError('x'), 2, policy, () => 1), 400);
  });

  test('retried: connection, timeout, 408, 409, 429, 5xx; never other 4xx or in-band errors', () => {
    const retried = [500, 502, 503, 504, 408, 409, 429].map((s) => isRetryable(errorForStatus(s, 'x')));
    assert.deepEqual(retried, [true, true, true, true, true, true, true]);
    const final = [400, 401, 403, 404, 405, 422].map((s) => isRetryable(errorForStatus(s, 'x')));
    assert.deepEqual(final, [false, false, false, false, false, false]);
    assert.equal(isRetryable(new ConnectionError('x')), true);
    assert.equal(isRetryable(new TimeoutError('x')), true);
    assert.equal(isRetryable(new ProviderError('x')), false);
    assert.equal(isRetryable(new ProtocolError('x')), false);
    assert.equal(isRetryable(new Error('x')), false);
  });
});

describe('errors', () => {
  test('each status maps to its class and keeps the status', () => {
    const cases = [
      [400, InvalidRequestError],
      [401, AuthenticationError],
      [403, PermissionDeniedError],
      [404, NotFoundError],
      [405, MethodNotAllowedError],
      [408, RequestTimeoutError],
      [409, ConflictError],
      [422, ValidationError],
      [429, RateLimitError],
      [500, ServerError],
      [503, ServiceUnavailableError],
      [418, HTTPStatusError],
    ];
    for (const [status, Cls] of cases) {
      const error = errorForStatus(status, 'msg');
      assert.equal(error.constructor, Cls, String(status));
      assert.equal(error.status, status);
      assert.equal(error.name, Cls.name);
      assert.ok(error instanceof TektonLLMError);
    }
    assert.ok(errorForStatus(503, 'x') instanceof ServerError);
    assert.ok(errorForStatus(422, 'x') instanceof InvalidRequestError);
  });

  test('FastAPI detail string, detail list, error key and text/plain bodies', () => {
    assert.deepEqual(describeErrorBody('{"detail": "Rhetor not initialized"}', 'application/json').message, 'Rhetor not initialized');
    const list = describeErrorBody(
      '{"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required","input":{}}]}',
      'application/json',
    );
    assert.equal(list.message, 'body.messages: Field required');
    assert.equal(list.details[0].type, 'missing');
    assert.equal(describeErrorBody('{"error": "Anthropic Claude is not available."}').message, 'Anthropic Claude is not available.');
    assert.deepEqual(describeErrorBody('Internal Server Error', 'text/plain; charset=utf-8'), {
      message: 'Internal Server Error',
      details: null,
    });
    assert.equal(describeErrorBody('x'.repeat(1000), 'text/plain').message.length, 200);
  });

  test('ValidationError exposes the detail list as errors', () => {
    const error = errorForStatus(422, 'bad', { details: [{ loc: ['body', 'x'], msg: 'nope' }] });
    assert.deepEqual(error.errors, [{ loc: ['body', 'x'], msg: 'nope' }]);
  });

  test('redact removes every occurrence of the secret', () => {
    assert.equal(redact('Bearer s3cret and s3cret', 's3cret'), 'Bearer *** and ***');
    assert.equal(redact('nothing here', undefined), 'nothing here');
  });
});

describe('URLs', () => {
  test('a base path prefix is kept when joining', () => {
    assert.equal(joinUrl('http://h:1/proxy/rhetor/', '/api/v1/chat'), 'http://h:1/proxy/rhetor/api/v1/chat');
    assert.equal(joinUrl('/api/llm', 'health'), '/api/llm/health');
  });

  test('the WebSocket URL derives from an absolute HTTP URL only', () => {
    assert.equal(deriveWsUrl('http://h:8003'), 'ws://h:8003/ws');
    assert.equal(deriveWsUrl('https://h/prefix/'), 'wss://h/prefix/ws');
    assert.equal(deriveWsUrl('/api/llm'), null);
  });
});

describe('dialects', () => {
  const defaults = { componentId: 'demo' };

  test('v1 puts the system prompt first in messages and LLM options at the top level', () => {
    const request = buildLogicalRequest('Hi', { systemPrompt: 'Be brief', temperature: 0.2, maxTokens: 50, model: 'm' }, defaults);
    const { path, body } = v1.httpRequest({ ...request, stream: false });
    assert.equal(path, '/api/v1/chat');
    assert.deepEqual(body, {
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hi' },
      ],
      model: 'm',
      temperature: 0.2,
      max_tokens: 50,
      stream: false,
    });
    assert.equal(v1.httpRequest({ ...request, stream: true }).path, '/api/v1/chat/stream');
  });

  test('v1 WebSocket frame carries system_prompt separately and the context id', () => {
    const request = buildLogicalRequest(
      [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
      ],
      { contextId: 'demo:1' },
      defaults,
    );
    assert.deepEqual(v1.wsRequest(request), {
      messages: [{ role: 'user', content: 'U' }],
      context_id: 'demo:1',
      component: 'demo',
      system_prompt: 'S',
    });
  });

  test('classic nests LLM options under options.options and picks the route', () => {
    const request = buildLogicalRequest('Hi', { temperature: 0.2, maxTokens: 10, model: 'simulated-advanced', provider: 'simulated' }, defaults);
    const single = classic.httpRequest({ ...request, stream: false });
    assert.equal(single.path, '/message');
    assert.deepEqual(single.body, {
      message: 'Hi',
      context_id: 'demo',
      component: 'demo',
      options: { provider: 'simulated', model: 'simulated-advanced', options: { temperature: 0.2, max_tokens: 10 } },
      streaming: false,
    });
    assert.equal(classic.httpRequest({ ...request, stream: true }).path, '/stream');
    const chat = classic.httpRequest({ ...buildLogicalRequest([{ role: 'user', content: 'a' }], {}, defaults), stream: true });
    assert.equal(chat.path, '/chat');
    assert.equal(chat.body.streaming, true);
    assert.equal('options' in chat.body, false);
  });

  test('classic WebSocket envelope: LLM_REQUEST for a prompt, CHAT_REQUEST for a list, streaming explicit', () => {
    const frame = classic.wsRequest(buildLogicalRequest('Hi', {}, defaults));
    assert.equal(frame.type, 'LLM_REQUEST');
    assert.deepEqual(frame.payload, { message: 'Hi', context: 'demo', component: 'demo', streaming: true });
    const chat = classic.wsRequest(buildLogicalRequest([{ role: 'user', content: 'a' }], {}, defaults));
    assert.equal(chat.type, 'CHAT_REQUEST');
    assert.deepEqual(chat.payload.messages, [{ role: 'user', content: 'a' }]);
  });

  test('chunk keys per dialect: content/context_id (v1), chunk/context (classic), errors first', () => {
    assert.deepEqual(v1.parseChunk({ content: 'ab', done: false, error: null, context_id: 'c', model: 'm', provider: 'p' }), {
      text: 'ab',
      done: false,
      model: 'm',
      provider: 'p',
      contextId: 'c',
    });
    assert.deepEqual(classic.parseChunk({ chunk: '', context: 'c', model: 'm', provider: 'p', done: true }), {
      text: '',
      done: true,
      model: 'm',
      provider: 'p',
      contextId: 'c',
    });
    assert.deepEqual(classic.parseChunk({ error: 'boom', context: 'c', done: true }), { error: 'boom' });
  });

  test('WebSocket frames: v1 terminator, request error, provider error chunk; classic typing and ERROR', () => {
    assert.deepEqual(v1.parseWsFrame({ type: 'stream_complete' }), { kind: 'end' });
    assert.deepEqual(v1.parseWsFrame({ type: 'error', error: 'No messages' }), { kind: 'error', message: 'No messages' });
    assert.deepEqual(v1.parseWsFrame({ error: 'p', context: 'c', done: true }), { kind: 'late-error', message: 'p' });
    assert.equal(v1.parseWsFrame({ content: 'x', done: true, error: null }).chunk.done, false);
    assert.deepEqual(classic.parseWsFrame({ type: 'UPDATE', payload: { status: 'typing', isTyping: false } }), { kind: 'skip' });
    assert.deepEqual(classic.parseWsFrame({ type: 'ERROR', payload: { error: 'Unsupported request type: X' } }), {
      kind: 'error',
      message: 'Unsupported request type: X',
      discard: false,
    });
    assert.equal(classic.parseWsFrame({ type: 'ERROR', payload: { error: 'boom' } }).discard, true);
    const response = classic.parseWsFrame({ type: 'RESPONSE', source: 'LLM', payload: { message: 'whole', model: 'm' } });
    assert.equal(response.chunk.text, 'whole');
    assert.equal(response.chunk.done, true);
  });
});
