// v1 as shipped: /api/v1/chat always 500s and /api/v1/chat/stream sends one error event, so the client moves
// generation to the WebSocket for the rest of its life (as the Python client does) when it has one.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import WebSocket from 'ws';

import { ProviderError, ServerError, TektonLLMClient } from '../src/index.js';
import { simulatedChat, startRhetor } from './helpers/rhetor.js';

let rhetor;

before(async () => {
  rhetor = await startRhetor('v1-as-shipped');
});
after(() => rhetor?.stop());
beforeEach(() => rhetor.reset());

function client(extra = {}) {
  return new TektonLLMClient({
    rhetorUrl: rhetor.url,
    rhetorWsUrl: rhetor.wsUrl,
    componentId: 'shipped',
    backoffBase: 1,
    backoffCap: 5,
    WebSocket,
    ...extra,
  });
}

async function drain(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

describe('v1 as shipped', { timeout: 30000 }, () => {
  test('without the switch, the shipped 500 surfaces as a ServerError with its detail', async () => {
    const error = await client({ transport: 'http', maxRetries: 0 }).generateText('x').catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 500);
    assert.match(error.message, /ModelRouter\.route_request\(\) got an unexpected keyword argument 'messages'/);
  });

  test('generateText switches to WebSocket once, and stays there', async () => {
    const c = client();
    assert.equal(c.activeTransport, 'http');
    const first = await c.generateText('over ws', { systemPrompt: 'Short answers.' });
    assert.equal(first.text, simulatedChat('over ws', 1, { system: 'Short answers.' }));
    assert.equal(c.activeTransport, 'ws');
    const second = await c.chat([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ]);
    assert.equal(second.text, simulatedChat('c', 3));
    c.close();

    assert.equal((await rhetor.requestsTo('/api/v1/chat', 'POST')).length, 1, 'the broken route is tried once, not retried');
    const frames = await rhetor.frames();
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0].data, {
      messages: [{ role: 'user', content: 'over ws' }],
      context_id: 'shipped',
      component: 'shipped',
      system_prompt: 'Short answers.',
    });
    assert.equal(frames[1].connection, frames[0].connection, 'one socket serves both requests');
  });

  test('a stream whose first event is the shipped error continues over WebSocket', async () => {
    const c = client();
    const chunks = await drain(c.stream('stream it'));
    c.close();
    assert.equal(chunks.map((ch) => ch.text).join(''), simulatedChat('stream it', 1));
    assert.equal(chunks.filter((ch) => ch.done).length, 1);
    assert.equal(chunks[0].contextId, 'shipped');
    assert.equal((await rhetor.requestsTo('/api/v1/chat/stream', 'POST')).length, 1);
    assert.equal((await rhetor.frames()).length, 1);
  });

  test('without a WebSocket implementation the shipped stream error is a ProviderError', async () => {
    const error = await drain(client({ WebSocket: null, transport: 'http' }).stream('x')).catch((e) => e);
    assert.ok(error instanceof ProviderError);
    assert.match(error.message, /route_request_stream/);
  });

  test('transport "ws" generates over WebSocket from the start', async () => {
    const c = client({ transport: 'ws', dialect: 'v1' });
    const result = await c.generateText('direct');
    c.close();
    assert.equal(result.text, simulatedChat('direct', 1));
    const { requests } = await rhetor.recorded();
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      ['WEBSOCKET /ws'],
    );
  });
});
