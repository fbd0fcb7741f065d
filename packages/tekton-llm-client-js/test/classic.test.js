// The client against the classic Rhetor generation: root routes, nested options, `event: message` SSE ending in
// an in-band `done: true`, errors in 200 bodies; and the classic server as shipped.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import {
  ConnectionError,
  IncompleteStreamError,
  ProviderError,
  ServerError,
  ServiceUnavailableError,
  TektonLLMClient,
} from '../src/index.js';
import { simulatedChat, simulatedMessage, startRhetor } from './helpers/rhetor.js';

const LIMIT = { timeout: 30000 };

async function drain(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

describe('classic', LIMIT, () => {
  let rhetor;
  before(async () => {
    rhetor = await startRhetor('classic');
  });
  after(() => rhetor?.stop());
  beforeEach(() => rhetor.reset());

  const client = (extra = {}) =>
    new TektonLLMClient({ rhetorUrl: rhetor.url, componentId: 'ergon', backoffBase: 1, backoffCap: 5, ...extra });
  const posts = async (path) => (await rhetor.requestsTo(path, 'POST')).length;

  test('detection reads the classic health body and needs no other probe', async () => {
    const c = client();
    assert.equal(await c.getDialect(), 'classic');
    const { requests } = await rhetor.recorded();
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      ['GET /health'],
    );
    const health = await c.health();
    assert.equal(health.generation, 'classic');
    assert.equal(health.body.providers.simulated, true);
  });

  test('generateText posts /message with snake_case fields and nested options.options', async () => {
    const result = await client().generateText('Hello classic', {
      model: 'simulated-advanced',
      provider: 'simulated',
      temperature: 0.3,
      maxTokens: 64,
      contextId: 'ergon:c1',
      taskType: 'analysis',
    });
    assert.equal(result.text, simulatedMessage('Hello classic', { model: 'simulated-advanced' }));
    assert.deepEqual([result.model, result.provider, result.contextId], ['simulated-advanced', 'simulated', 'ergon:c1']);
    const [sent] = await rhetor.requestsTo('/message', 'POST');
    assert.deepEqual(sent.body, {
      message: 'Hello classic',
      context_id: 'ergon:c1',
      task_type: 'analysis',
      component: 'ergon',
      options: { provider: 'simulated', model: 'simulated-advanced', options: { temperature: 0.3, max_tokens: 64 } },
      streaming: false,
    });
  });

  test('chat posts /chat with the history; a system prompt makes a prompt go to /chat too', async () => {
    const chat = await client().chat([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'two' },
      { role: 'user', content: 'three' },
    ]);
    assert.equal(chat.text, simulatedChat('three', 3));
    const withSystem = await client().generateText('hi', { systemPrompt: 'Be kind.' });
    assert.equal(withSystem.text, simulatedChat('hi', 2, { system: 'Be kind.' }));
    const sent = await rhetor.requestsTo('/chat', 'POST');
    assert.equal(sent.length, 2);
    assert.equal(sent[0].body.streaming, false);
    assert.deepEqual(sent[1].body.messages, [
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'hi' },
    ]);
    assert.equal(await posts('/message'), 0);
  });

  test('stream(prompt) reads /stream to its done chunk: text in order, one done chunk', async () => {
    const chunks = await drain(client().stream('Stream classic', { contextId: 'ergon:s1' }));
    const expected = simulatedMessage('Stream classic');
    assert.equal(chunks.map((c) => c.text).join(''), expected);
    assert.equal(chunks[0].text, expected.slice(0, 10));
    assert.equal(chunks.filter((c) => c.done).length, 1);
    assert.deepEqual(chunks.at(-1), {
      text: '',
      done: true,
      model: 'simulated-fast',
      provider: 'simulated',
      contextId: 'ergon:s1',
      dialect: 'classic',
    });
    assert.equal(await posts('/stream'), 1);
  });

  test('stream(messages) uses /chat with streaming: true', async () => {
    const chunks = await drain(client().stream([{ role: 'user', content: 'list' }]));
    assert.equal(chunks.map((c) => c.text).join(''), simulatedChat('list', 1));
    const [sent] = await rhetor.requestsTo('/chat', 'POST');
    assert.equal(sent.body.streaming, true);
  });

  test('a provider failure in a 200 body is a ProviderError, never retried', async () => {
    await rhetor.faults({ error_in_200: true });
    const error = await client().generateText('x').catch((e) => e);
    assert.equal(error.constructor, ProviderError);
    assert.equal(error.status, 200);
    assert.equal(error.message, 'Anthropic Claude is not available.');
    assert.equal(await posts('/message'), 1);
    const streamed = await drain(client().stream('x')).catch((e) => e);
    assert.equal(streamed.constructor, ProviderError);
  });

  test('an error chunk after text is an IncompleteStreamError', async () => {
    await rhetor.faults({ error_after_chunks: 1 });
    const error = await drain(client().stream('Err')).catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError);
    assert.equal(error.partialText, simulatedMessage('Err').slice(0, 10));
    assert.ok(error.cause instanceof ProviderError);
  });

  test('a close without done after text is a truncated stream', async () => {
    await rhetor.faults({ close_after_chunks: 2 });
    const error = await drain(client().stream('Trunc')).catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, simulatedMessage('Trunc').slice(0, 20));
  });

  test('a close before any event is a connection failure, retried before giving up', async () => {
    await rhetor.faults({ close_after_chunks: 0 });
    const error = await drain(client({ maxRetries: 2 }).stream('Nothing')).catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(await posts('/stream'), 3);
  });

  test('"not initialized" is a 503 ServiceUnavailableError with the classic detail', async () => {
    await rhetor.faults({ not_initialized: true });
    const error = await client({ dialect: 'classic', maxRetries: 1 }).generateText('x').catch((e) => e);
    assert.ok(error instanceof ServiceUnavailableError);
    assert.match(error.message, /Rhetor components not initialized/);
    assert.equal(await posts('/message'), 2);
  });
});

describe('classic as shipped', LIMIT, () => {
  let rhetor;
  before(async () => {
    rhetor = await startRhetor('classic-as-shipped');
  });
  after(() => rhetor?.stop());
  beforeEach(() => rhetor.reset());

  test('every generation route fails with the get_system_prompt 500, retried as a 5xx', async () => {
    const c = new TektonLLMClient({ rhetorUrl: rhetor.url, maxRetries: 1, backoffBase: 1 });
    const error = await c.generateText('x').catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 500);
    assert.match(error.message, /'PromptEngine' object has no attribute 'get_system_prompt'/);
    assert.equal(error.dialect, 'classic');
    assert.equal((await rhetor.requestsTo('/message', 'POST')).length, 2);
    const streamed = await drain(c.stream('x', { maxRetries: 0 })).catch((e) => e);
    assert.ok(streamed instanceof ServerError);
    assert.equal((await rhetor.requestsTo('/stream', 'POST')).length, 1);
  });
});
