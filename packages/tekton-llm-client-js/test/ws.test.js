// TektonLLMWebSocketClient against the Python test server (v1 bare JSON, classic envelope, classic as shipped),
// with the `ws` package as the WebSocket implementation. Socket reuse is read from the server's connection ids.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';

import WebSocket from 'ws';

import {
  AbortError,
  ConnectionError,
  EmptyAnswerError,
  IncompleteStreamError,
  ProtocolError,
  ProviderError,
  ServiceUnavailableError,
  TektonLLMWebSocketClient,
  TimeoutError,
} from '../src/index.js';
import { simulatedChat, simulatedMessage, startRhetor } from './helpers/rhetor.js';

const LIMIT = { timeout: 30000 };

async function drain(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

describe('WebSocket, v1', LIMIT, () => {
  let rhetor;
  let clients = [];
  before(async () => {
    rhetor = await startRhetor('v1');
  });
  after(() => rhetor?.stop());
  beforeEach(async () => {
    for (const c of clients) c.close();
    clients = [];
    await rhetor.reset();
  });

  const client = (extra = {}) => {
    const c = new TektonLLMWebSocketClient({ url: rhetor.wsUrl, componentId: 'wsjs', WebSocket, backoffBase: 1, ...extra });
    clients.push(c);
    return c;
  };
  const connections = async () => (await rhetor.frames()).map((f) => f.connection);

  test('connect, then generate: the frame is bare JSON and the answer is the chunks joined', async () => {
    const c = client();
    await c.connect();
    assert.equal(c.connected, true);
    const result = await c.generate('Hello over WS', { contextId: 'wsjs:1', systemPrompt: 'Tiny.' });
    assert.equal(result.text, simulatedChat('Hello over WS', 1, { system: 'Tiny.' }));
    assert.deepEqual([result.model, result.provider, result.contextId], ['simulated-fast', 'simulated', 'wsjs:1']);
    const [frame] = await rhetor.frames();
    assert.deepEqual(frame.data, {
      messages: [{ role: 'user', content: 'Hello over WS' }],
      context_id: 'wsjs:1',
      component: 'wsjs',
      system_prompt: 'Tiny.',
    });
  });

  test('stream yields chunks in order and ends at stream_complete with one done chunk', async () => {
    const chunks = await drain(client().stream([{ role: 'user', content: 'ws stream' }]));
    const expected = simulatedChat('ws stream', 1);
    assert.equal(chunks.length, Math.ceil(expected.length / 10) + 1);
    assert.equal(chunks.map((c) => c.text).join(''), expected);
    assert.deepEqual(
      chunks.map((c) => c.done),
      [...Array(chunks.length - 1).fill(false), true],
    );
  });

  test('concurrent requests on one client are serialized on one socket', async () => {
    const c = client();
    const prompts = ['first', 'second', 'third'];
    const results = await Promise.all(prompts.map((p) => c.generate(p)));
    assert.deepEqual(
      results.map((r) => r.text),
      prompts.map((p) => simulatedChat(p, 1)),
    );
    const frames = await rhetor.frames();
    assert.deepEqual(
      frames.map((f) => f.data.messages[0].content),
      prompts,
    );
    assert.equal(new Set(frames.map((f) => f.connection)).size, 1);
  });

  test('an error frame ends the request; the socket stays in use', async () => {
    const c = client();
    await rhetor.faults({ not_initialized: true });
    const error = await c.generate('x', { maxRetries: 0 }).catch((e) => e);
    assert.ok(error instanceof ServiceUnavailableError);
    assert.equal(error.message, 'Rhetor not initialized');
    await rhetor.faults({ not_initialized: false });
    assert.equal((await c.generate('after')).text, simulatedChat('after', 1));
    const ids = await connections();
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
  });

  test('a provider error chunk after text: IncompleteStreamError; stream_complete is consumed, socket reused', async () => {
    const c = client();
    await rhetor.faults({ error_after_chunks: 1 });
    const error = await c.generate('boom').catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, simulatedChat('boom', 1).slice(0, 10));
    assert.ok(error.cause instanceof ProviderError);
    await rhetor.faults({ error_after_chunks: null, error_in_200: true });
    const only = await c.generate('boom2').catch((e) => e);
    assert.equal(only.constructor, ProviderError);
    await rhetor.faults({ error_in_200: false });
    assert.equal((await c.generate('fine')).text, simulatedChat('fine', 1));
    assert.equal(new Set(await connections()).size, 1);
  });

  test('a dropped socket mid-answer: IncompleteStreamError, then a fresh socket', async () => {
    const c = client();
    await rhetor.faults({ close_after_chunks: 2 });
    const error = await c.generate('drop').catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, simulatedChat('drop', 1).slice(0, 20));
    await rhetor.faults({ close_after_chunks: null });
    assert.equal((await c.generate('again')).text, simulatedChat('again', 1));
    const ids = await connections();
    assert.notEqual(ids[0], ids[1]);
  });

  test('no frame within the timeout: TimeoutError, and the socket is replaced', async () => {
    const c = client({ timeout: 200, maxRetries: 0 });
    await rhetor.faults({ first_byte_delay: 1.5 });
    const error = await c.generate('slow').catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.kind, 'frame');
    assert.equal(c.connected, false);
    await rhetor.faults({ first_byte_delay: 0 });
    assert.equal((await c.generate('quick')).text, simulatedChat('quick', 1));
    const ids = await connections();
    assert.notEqual(ids[0], ids.at(-1));
  });

  test('a non-JSON frame is a protocol failure and the socket is replaced', async () => {
    const c = client();
    await rhetor.faults({ malformed_after_chunks: 1 });
    const error = await c.generate('mal').catch((e) => e);
    assert.ok(error instanceof IncompleteStreamError);
    assert.ok(error.cause instanceof ProtocolError);
    assert.equal(c.connected, false);
  });

  test('an all-empty answer is an EmptyAnswerError', async () => {
    await rhetor.faults({ provider_unavailable: true });
    await assert.rejects(client().generate('void'), EmptyAnswerError);
  });

  test('abort mid-stream: AbortError, and the next request uses a new socket', async () => {
    const c = client();
    await rhetor.faults({ chunk_delay: 0.05 });
    const controller = new AbortController();
    let count = 0;
    const error = await c
      .generate('stop me', {
        signal: controller.signal,
        onChunk: () => {
          count += 1;
          if (count === 2) controller.abort();
        },
      })
      .catch((e) => e);
    assert.ok(error instanceof AbortError, String(error));
    assert.equal(count, 2);
    await rhetor.faults({ chunk_delay: 0 });
    assert.equal((await c.generate('next')).text, simulatedChat('next', 1));
    const ids = await connections();
    assert.notEqual(ids[0], ids.at(-1));
  });

  test('a closed port is a ConnectionError after the retries', async () => {
    const probe = createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const c = client({ url: `ws://127.0.0.1:${port}/ws`, maxRetries: 1 });
    await assert.rejects(c.generate('x'), ConnectionError);
  });
});

describe('WebSocket, classic envelope', LIMIT, () => {
  let rhetor;
  let c;
  before(async () => {
    rhetor = await startRhetor('classic');
  });
  after(() => rhetor?.stop());
  beforeEach(async () => {
    c?.close();
    c = new TektonLLMWebSocketClient({ url: rhetor.wsUrl, dialect: 'classic', componentId: 'ergon', WebSocket, backoffBase: 1 });
    await rhetor.reset();
  });

  test('LLM_REQUEST streams to done; the typing-off update is consumed before the next request', async () => {
    const first = await c.generate('Classic WS', { contextId: 'ergon:ws' });
    assert.equal(first.text, simulatedMessage('Classic WS'));
    assert.equal(first.contextId, 'ergon:ws');
    const second = await c.generate([
      { role: 'user', content: 'q1' },
      { role: 'user', content: 'q2' },
    ]);
    assert.equal(second.text, simulatedChat('q2', 2));
    const frames = await rhetor.frames();
    assert.deepEqual(
      frames.map((f) => [f.data.type, f.data.source, f.data.payload.streaming, f.connection]),
      [
        ['LLM_REQUEST', 'ergon', true, frames[0].connection],
        ['CHAT_REQUEST', 'ergon', true, frames[0].connection],
      ],
    );
    assert.equal(frames[0].data.payload.context, 'ergon:ws');
    assert.equal(frames[0].data.payload.message, 'Classic WS');
  });

  test('stream yields chunks then one done chunk', async () => {
    const chunks = await drain(c.stream('chunks'));
    assert.equal(chunks.map((ch) => ch.text).join(''), simulatedMessage('chunks'));
    assert.equal(chunks.filter((ch) => ch.done).length, 1);
    assert.equal(chunks.at(-1).dialect, 'classic');
  });

  test('a provider error update is a ProviderError; the socket stays usable', async () => {
    await rhetor.faults({ error_in_200: true });
    const error = await c.generate('x').catch((e) => e);
    assert.equal(error.constructor, ProviderError);
    assert.equal(error.message, 'Anthropic Claude is not available.');
    await rhetor.faults({ error_in_200: false });
    assert.equal((await c.generate('y')).text, simulatedMessage('y'));
    assert.equal(new Set((await rhetor.frames()).map((f) => f.connection)).size, 1);
  });
});

describe('WebSocket, classic as shipped', LIMIT, () => {
  let rhetor;
  before(async () => {
    rhetor = await startRhetor('classic-as-shipped');
  });
  after(() => rhetor?.stop());

  test('the ERROR frame fails the request and the dead socket is replaced', async () => {
    const c = new TektonLLMWebSocketClient({ url: rhetor.wsUrl, dialect: 'classic', WebSocket, maxRetries: 0 });
    for (let i = 0; i < 2; i += 1) {
      const error = await c.generate('x').catch((e) => e);
      assert.equal(error.constructor, ProviderError);
      assert.equal(error.message, "'PromptEngine' object has no attribute 'get_system_prompt'");
    }
    c.close();
    const ids = (await rhetor.frames()).map((f) => f.connection);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
  });
});
