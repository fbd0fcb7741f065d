// The client against the Python Rhetor test server, v1 profile (intended behaviour plus fault switches).

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import {
  AbortError,
  AuthenticationError,
  EmptyAnswerError,
  IncompleteStreamError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
  ProtocolError,
  ProviderError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  TektonLLMClient,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import { simulatedChat, startRhetor } from './helpers/rhetor.js';

const LIMIT = { timeout: 30000 };
let rhetor;

before(async () => {
  rhetor = await startRhetor('v1');
});
after(() => rhetor?.stop());
beforeEach(() => rhetor.reset());

function client(extra = {}) {
  return new TektonLLMClient({
    rhetorUrl: rhetor.url,
    componentId: 'jstest',
    transport: 'http',
    backoffBase: 1,
    backoffCap: 5,
    ...extra,
  });
}

async function drain(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

async function posts(path) {
  return (await rhetor.requestsTo(path, 'POST')).length;
}

function pieces(text, size) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('v1: methods', LIMIT, () => {
  test('detection finds v1 once and caches it for the client', async () => {
    const c = client({ dialect: 'auto' });
    assert.equal(await c.getDialect(), 'v1');
    await c.generateText('one');
    await c.generateText('two');
    assert.equal((await rhetor.requestsTo('/health', 'GET')).length, 1);
    assert.equal((await rhetor.requestsTo('/api/v1/discovery', 'GET')).length, 1);
  });

  test('generateText returns the simulated answer with its model', async () => {
    const result = await client().generateText('Hello Rhetor');
    assert.equal(result.text, simulatedChat('Hello Rhetor', 1));
    assert.equal(result.model, 'simulated-fast');
    assert.equal(result.dialect, 'v1');
  });

  test('chat sends the system prompt as the first message and LLM options at the top level', async () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'second' },
    ];
    const result = await client().chat(messages, { model: 'simulated-advanced', temperature: 0.5, maxTokens: 20 });
    assert.equal(result.text, simulatedChat('second', 4, { system: 'You are terse.', model: 'simulated-advanced' }));
    const [sent] = await rhetor.requestsTo('/api/v1/chat', 'POST');
    assert.deepEqual(sent.body, {
      messages,
      model: 'simulated-advanced',
      temperature: 0.5,
      max_tokens: 20,
      stream: false,
    });
  });

  test('stream yields the chunks in order, then exactly one done chunk', async () => {
    const chunks = await drain(client().stream('Stream me'));
    const expected = simulatedChat('Stream me', 1);
    const text = chunks.filter((c) => !c.done).map((c) => c.text);
    assert.deepEqual(text, pieces(expected, 10));
    assert.equal(chunks.filter((c) => c.done).length, 1);
    assert.deepEqual(chunks.at(-1), {
      text: '',
      done: true,
      model: 'simulated-fast',
      provider: 'simulated',
      contextId: null,
      dialect: 'v1',
    });
    assert.equal((await rhetor.requestsTo('/api/v1/chat/stream', 'POST'))[0].body.stream, true);
  });

  test('streamText calls back per chunk and resolves with the whole answer', async () => {
    const seen = [];
    const result = await client().streamText('Callback', (chunk) => seen.push(chunk));
    assert.equal(result.text, simulatedChat('Callback', 1));
    assert.equal(seen.map((c) => c.text).join(''), result.text);
    assert.equal(seen.at(-1).done, true);
    assert.equal(result.provider, 'simulated');
  });

  test('health reports the v1 body', async () => {
    const health = await client().health();
    assert.equal(health.status, 'healthy');
    assert.equal(health.healthy, true);
    assert.equal(health.generation, 'v1');
    assert.equal(health.body.component, 'rhetor');
    await rhetor.faults({ not_initialized: true });
    const degraded = await client().health();
    assert.deepEqual([degraded.status, degraded.healthy], ['degraded', false]);
  });

  test('the bearer token is sent on every request', async () => {
    const c = client({ dialect: 'auto', authToken: 'secret-token-1' });
    await c.generateText('auth');
    const { requests } = await rhetor.recorded();
    assert.ok(requests.length >= 3);
    for (const r of requests) assert.equal(r.headers.authorization, 'Bearer secret-token-1');
  });
});

describe('v1: errors and retries', LIMIT, () => {
  const cases = [
    [400, InvalidRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [422, ValidationError],
    [429, RateLimitError],
    [500, ServerError],
    [503, ServiceUnavailableError],
  ];
  for (const [status, Cls] of cases) {
    test(`${status} → ${Cls.name}`, async () => {
      await rhetor.faults({ fail_status: status, fail_times: -1, fail_detail: `injected ${status}` });
      const error = await client({ maxRetries: 0 }).generateText('x').catch((e) => e);
      assert.equal(error.constructor, Cls);
      assert.equal(error.status, status);
      assert.match(error.message, new RegExp(`injected ${status}`));
    });
  }

  test('other 4xx are never retried; 5xx are retried up to maxRetries', async () => {
    await rhetor.faults({ fail_status: 400, fail_times: -1 });
    await assert.rejects(client({ maxRetries: 3 }).generateText('x'), InvalidRequestError);
    assert.equal(await posts('/api/v1/chat'), 1);
    await rhetor.reset();
    await rhetor.faults({ fail_status: 500, fail_times: -1 });
    await assert.rejects(client({ maxRetries: 2 }).generateText('x'), ServerError);
    assert.equal(await posts('/api/v1/chat'), 3);
  });

  test('a transient 503 is retried until it succeeds, counted server-side', async () => {
    await rhetor.faults({ fail_status: 503, fail_times: 2 });
    const result = await client({ maxRetries: 3 }).generateText('retry me');
    assert.equal(result.text, simulatedChat('retry me', 1));
    assert.equal(await posts('/api/v1/chat'), 3);
  });

  test('408 and 409 are retried too', async () => {
    for (const status of [408, 409]) {
      await rhetor.reset();
      await rhetor.faults({ fail_status: status, fail_times: 1 });
      await client({ maxRetries: 1 }).generateText('x');
      assert.equal(await posts('/api/v1/chat'), 2, String(status));
    }
  });

  test('429 with Retry-After is retried; the hint is bounded by retryAfterCap', async () => {
    await rhetor.faults({ fail_status: 429, fail_times: 1, retry_after: '3600' });
    // Without the bound this would wait an hour and the test would time out.
    const result = await client({ maxRetries: 1, retryAfterCap: 10 }).generateText('later');
    assert.equal(result.text, simulatedChat('later', 1));
    assert.equal(await posts('/api/v1/chat'), 2);
  });

  test('Retry-After as an HTTP date is honoured (a date already past means no wait)', async () => {
    await rhetor.faults({ fail_status: 503, fail_times: 1, retry_after: new Date(Date.now() - 5000).toUTCString() });
    const result = await client({ maxRetries: 1, backoffBase: 60000, backoffCap: 60000 }).generateText('dated');
    assert.equal(result.text, simulatedChat('dated', 1));
    assert.equal(await posts('/api/v1/chat'), 2);
  });

  test('a real 422 carries the FastAPI detail list', async () => {
    const error = await client().generateText('x', { temperature: 5 }).catch((e) => e);
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 422);
    assert.ok(error.errors.some((item) => item.loc.includes('temperature')), JSON.stringify(error.errors));
    assert.equal(await posts('/api/v1/chat'), 1);
  });

  test('a text/plain 500 keeps its text as the message', async () => {
    await rhetor.faults({ text_500_paths: ['/api/v1/chat'] });
    const error = await client({ maxRetries: 0 }).generateText('x').catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.match(error.message, /Internal Server Error/);
  });

  test('"not initialized" is a ServiceUnavailableError after the retries', async () => {
    await rhetor.faults({ not_initialized: true });
    const error = await client({ maxRetries: 2 }).generateText('x').catch((e) => e);
    assert.ok(error instanceof ServiceUnavailableError);
    assert.match(error.message, /Rhetor not initialized/);
    assert.equal(await posts('/api/v1/chat'), 3);
  });

  test('an empty answer (unavailable provider) is an EmptyAnswerError, streamed or not', async () => {
    await rhetor.faults({ provider_unavailable: true });
    await assert.rejects(client().generateText('x'), EmptyAnswerError);
    await assert.rejects(drain(client().stream('x')), EmptyAnswerError);
  });
});

describe('v1: streams', LIMIT, () => {
  test('a stream is retried before its first event', async () => {
    await rhetor.faults({ fail_status: 503, fail_times: 1 });
    const chunks = await drain(client({ maxRetries: 2 }).stream('again'));
    assert.equal(chunks.map((c) => c.text).join(''), simulatedChat('again', 1));
    assert.equal(await posts('/api/v1/chat/stream'), 2);
  });

  test('an error event after text is final: IncompleteStreamError with the partial text', async () => {
    await rhetor.faults({ error_after_chunks: 2 });
    const seen = [];
    const error = await client({ maxRetries: 3 })
      .streamText('partial', (c) => seen.push(c.text))
      .catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, simulatedChat('partial', 1).slice(0, 20));
    assert.equal(seen.join(''), error.partialText);
    assert.ok(error.cause instanceof ProviderError);
    assert.equal(error.cause.message, 'Anthropic Claude is not available.');
    assert.equal(await posts('/api/v1/chat/stream'), 1);
  });

  test('an error as the only event is a ProviderError (HTTP pinned: no switch)', async () => {
    await rhetor.faults({ error_in_200: true });
    const error = await drain(client({ maxRetries: 3 }).stream('x')).catch((e) => e);
    assert.equal(error.constructor, ProviderError);
    assert.equal(error.message, 'Anthropic Claude is not available.');
    assert.equal(await posts('/api/v1/chat/stream'), 1);
  });

  test('a connection cut mid-stream is an IncompleteStreamError', async () => {
    await rhetor.faults({ close_after_chunks: 3 });
    const error = await drain(client().stream('cut')).catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, simulatedChat('cut', 1).slice(0, 30));
  });

  test('a malformed data line is a protocol failure, never text', async () => {
    await rhetor.faults({ malformed_after_chunks: 1 });
    const error = await drain(client().stream('bad')).catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError);
    assert.ok(error.cause instanceof ProtocolError);
    assert.equal(error.partialText, simulatedChat('bad', 1).slice(0, 10));
  });

  test('": ping" comments before the first event are ignored', async () => {
    await rhetor.faults({ ping_interval: 0.02, first_event_delay: 0.25 });
    const chunks = await drain(client().stream('pinged'));
    assert.equal(chunks.map((c) => c.text).join(''), simulatedChat('pinged', 1));
  });

  test('no first event within the timeout is a TimeoutError, retried like any timeout', async () => {
    await rhetor.faults({ first_byte_delay: 1.5 });
    const error = await drain(client({ timeout: 150, maxRetries: 1 }).stream('slow')).catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.kind, 'first_event');
    assert.equal(await posts('/api/v1/chat/stream'), 2);
    const plain = await client({ timeout: 150, maxRetries: 0 }).generateText('slow').catch((e) => e);
    assert.ok(plain instanceof TimeoutError);
    assert.equal(plain.kind, 'request');
  });

  test('a stall after text hits the idle timeout even while pings flow', async () => {
    await rhetor.faults({ stall_after_chunks: 2, stall_seconds: 2, ping_interval: 0.03 });
    const error = await drain(client({ timeout: 400 }).stream('stall')).catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.ok(error.cause instanceof TimeoutError);
    assert.equal(error.cause.kind, 'idle');
    assert.equal(error.partialText, simulatedChat('stall', 1).slice(0, 20));
  });
});

describe('v1: cancellation', LIMIT, () => {
  test('an already aborted signal sends nothing', async () => {
    const error = await client()
      .generateText('x', { signal: AbortSignal.abort('stop') })
      .catch((e) => e);
    assert.ok(error instanceof AbortError);
    assert.equal(error.cause, 'stop');
    assert.equal(await posts('/api/v1/chat'), 0);
  });

  test('aborting mid-stream stops it with an AbortError', async () => {
    await rhetor.faults({ chunk_delay: 0.05 });
    const controller = new AbortController();
    const seen = [];
    const error = await client()
      .streamText(
        'abort me',
        (chunk) => {
          seen.push(chunk.text);
          if (seen.length === 2) controller.abort();
        },
        { signal: controller.signal },
      )
      .catch((e) => e);
    assert.ok(error instanceof AbortError, String(error));
    assert.equal(seen.length, 2);
  });

  test('aborting during a Retry-After wait ends the request without another attempt', async () => {
    await rhetor.faults({ fail_status: 503, fail_times: -1, retry_after: '20' });
    const controller = new AbortController();
    const pending = client({ maxRetries: 3 }).generateText('x', { signal: controller.signal });
    const wait = setInterval(async () => {
      if ((await posts('/api/v1/chat')) === 1) controller.abort();
    }, 20);
    const error = await pending.catch((e) => e);
    clearInterval(wait);
    assert.ok(error instanceof AbortError, String(error));
    assert.equal(await posts('/api/v1/chat'), 1);
  });
});
