// The README's first example, `new TektonLLMClient({ rhetorUrl })`, against a v1 Rhetor as shipped (its HTTP chat
// routes fail, so generation must continue over WebSocket) on every supported Node: where the runtime has a global
// WebSocket (Node >= 22, or Node 20 with --experimental-websocket) it just works; where it has none (Node 20) the
// call fails with a ConfigurationError naming the `WebSocket` option, never with the bare HTTP 500.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import WebSocket from 'ws';

import {
  ConfigurationError,
  ProviderError,
  ServerError,
  TektonLLMClient,
  TektonLLMWebSocketClient,
} from '../src/index.js';
import { simulatedChat, startRhetor } from './helpers/rhetor.js';

const INDEX = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.js');
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const run = promisify(execFile);

let rhetor;

before(async () => {
  rhetor = await startRhetor('v1-as-shipped');
});
after(() => rhetor?.stop());
beforeEach(() => rhetor.reset());

async function drain(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

/** Runs the body with `globalThis.WebSocket` removed, as on Node 20, whatever Node runs the test. */
describe('a runtime without a global WebSocket', { timeout: 30000 }, () => {
  let saved;
  beforeEach(() => {
    saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    Object.defineProperty(globalThis, 'WebSocket', { value: undefined, configurable: true, writable: true });
  });
  afterEach(() => {
    if (saved) Object.defineProperty(globalThis, 'WebSocket', saved);
    else delete globalThis.WebSocket;
  });

  test('generateText names the missing WebSocket option and keeps the HTTP error as its cause', async () => {
    const client = new TektonLLMClient({ rhetorUrl: rhetor.url });
    const error = await client.generateText('hello').catch((e) => e);
    assert.ok(error instanceof ConfigurationError, `got ${error?.name}: ${error?.message}`);
    assert.match(error.message, /no global WebSocket \(Node\.js < 22\): pass one as the `WebSocket` option/);
    assert.match(error.message, /\(ServerError: .*unexpected keyword argument 'messages'/);
    assert.ok(error.cause instanceof ServerError);
    assert.equal(error.cause.status, 500);
    assert.equal(client.activeTransport, 'http');
    // A configuration problem is not retried: the broken route was asked once.
    assert.equal((await rhetor.requestsTo('/api/v1/chat', 'POST')).length, 1);
  });

  test('a stream fails the same way, before any chunk', async () => {
    const client = new TektonLLMClient({ rhetorUrl: rhetor.url });
    const seen = [];
    const error = await client.streamText('hello', (chunk) => seen.push(chunk)).catch((e) => e);
    assert.ok(error instanceof ConfigurationError, `got ${error?.name}: ${error?.message}`);
    assert.match(error.message, /`WebSocket` option/);
    assert.ok(error.cause instanceof ProviderError);
    assert.deepEqual(seen, []);
    assert.equal((await rhetor.requestsTo('/api/v1/chat/stream', 'POST')).length, 1);
  });

  test('WebSocket: null opts out: the HTTP error surfaces as it is', async () => {
    const client = new TektonLLMClient({ rhetorUrl: rhetor.url, WebSocket: null, maxRetries: 0 });
    const error = await client.generateText('hello').catch((e) => e);
    assert.ok(error instanceof ServerError, `got ${error?.name}: ${error?.message}`);
    assert.equal(error.status, 500);
  });

  test('a WebSocket-only client says which option is missing, before connecting', async () => {
    const socket = new TektonLLMWebSocketClient({ url: rhetor.wsUrl, dialect: 'v1' });
    const direct = await socket.generate('hello').catch((e) => e);
    assert.ok(direct instanceof ConfigurationError, `got ${direct?.name}: ${direct?.message}`);
    assert.match(direct.message, /no global WebSocket .*pass one as the `WebSocket` option/);
    const pinned = new TektonLLMClient({ rhetorUrl: rhetor.url, transport: 'ws', dialect: 'v1' });
    const viaClient = await pinned.generateText('hello').catch((e) => e);
    assert.ok(viaClient instanceof ConfigurationError, `got ${viaClient?.name}: ${viaClient?.message}`);
    assert.match(viaClient.message, /`WebSocket` option/);
    assert.deepEqual((await rhetor.recorded()).requests, [], 'nothing reached Rhetor');
  });

  test('passing the ws package as the WebSocket option makes the example work', async () => {
    const client = new TektonLLMClient({ rhetorUrl: rhetor.url, WebSocket });
    const answer = await client.generateText('hello');
    client.close();
    assert.equal(answer.text, simulatedChat('hello', 1));
    assert.equal(client.activeTransport, 'ws');
  });
});

test(`the README example on this Node (${process.versions.node})`, { timeout: 30000 }, async (t) => {
  const client = new TektonLLMClient({ rhetorUrl: rhetor.url });
  const outcome = await client.generateText('hello').catch((e) => e);
  client.close();
  if (typeof globalThis.WebSocket === 'function') {
    t.diagnostic(`Node ${process.versions.node} has a global WebSocket: the client switches to it by itself`);
    assert.equal(outcome.text, simulatedChat('hello', 1));
    assert.equal(client.activeTransport, 'ws');
  } else {
    t.diagnostic(`Node ${process.versions.node} has no global WebSocket: the error names the option`);
    assert.ok(NODE_MAJOR < 22, `Node ${process.versions.node} should have a global WebSocket`);
    assert.ok(outcome instanceof ConfigurationError);
    assert.match(outcome.message, /`WebSocket` option/);
  }
});

test('Node 20 with --experimental-websocket runs the README example unchanged', { timeout: 30000 }, async (t) => {
  if (NODE_MAJOR >= 22) {
    t.skip(`Node ${process.versions.node} has the global WebSocket without a flag (tested above)`);
    return;
  }
  const script = `
    const { TektonLLMClient } = await import(${JSON.stringify(INDEX)});
    const client = new TektonLLMClient({ rhetorUrl: ${JSON.stringify(rhetor.url)} });
    const answer = await client.generateText('hello');
    client.close();
    console.log(JSON.stringify({ text: answer.text, transport: client.activeTransport }));
  `;
  const { stdout } = await run(process.execPath, ['--experimental-websocket', '--input-type=module', '-e', script]);
  assert.deepEqual(JSON.parse(stdout), { text: simulatedChat('hello', 1), transport: 'ws' });
});
