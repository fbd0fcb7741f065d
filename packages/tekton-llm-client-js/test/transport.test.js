// The fetch transport against a small scripted Node server on 127.0.0.1: byte-level SSE framing the Python
// server does not vary (LF and lone-CR line ends, bytes split mid-line, `[DONE]`), a path prefix, the bearer
// header, the token kept out of errors and reprs, and a connection cut mid-body.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';

import {
  AuthenticationError,
  ConnectionError,
  IncompleteStreamError,
  ServerError,
  TektonLLMClient,
  ValidationError,
} from '../src/index.js';

const TOKEN = 'tok-5ecret-ABC123';

function chunk(content) {
  return JSON.stringify({ content, done: false, error: null, context_id: 'c1', model: 'm1', provider: 'p1' });
}

/** Scripts keyed by the last path segment; each writes its response by hand. */
const scripts = {
  async lf(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${chunk('Hello')}\n\n`);
    res.end(`data: ${chunk(', world')}\n\n`);
  },
  async cr(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`: ping - x\r\rdata: ${chunk('Hello')}\r\r`);
    res.end(`data: ${chunk(', world')}\r\r`);
  },
  async split(res) {
    // CRLF with the CR and LF in different writes, and JSON cut in the middle.
    const body = `data: ${chunk('Hello')}\r\n\r\ndata: ${chunk(', world')}\r\n\r\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const cuts = [3, body.indexOf('\r') + 1, body.indexOf('Hello') + 2, body.length - 1];
    let from = 0;
    for (const cut of cuts) {
      res.write(body.slice(from, cut));
      from = cut;
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end(body.slice(from));
  },
  async done(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${chunk('Hello')}\n\ndata: ${chunk(', world')}\n\n`);
    res.end('data: [DONE]\n\n');
  },
  async cut(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${chunk('Hello')}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 20));
    res.socket.destroy();
  },
  async echoauth(res, req) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: `bad credentials: ${req.headers.authorization}` }));
  },
  async plain500(res) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Internal Server Error');
  },
  async list422(res) {
    res.writeHead(422, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: [{ type: 'missing', loc: ['body', 'messages'], msg: 'Field required', input: {} }] }));
  },
};

let server;
let base;
const seen = [];

before(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const part of req) body += part;
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
    const script = scripts[req.url.split('/')[2]];
    if (!script) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"detail":"Not Found"}');
      return;
    }
    await script(res, req);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

/** A v1 client whose base URL is `/prefix/<script>`, so each test picks its server behaviour. */
function clientFor(script, extra = {}) {
  return new TektonLLMClient({
    rhetorUrl: `${base}/prefix/${script}/`,
    dialect: 'v1',
    transport: 'http',
    authToken: TOKEN,
    maxRetries: 0,
    ...extra,
  });
}

async function drain(iterable) {
  const chunks = [];
  for await (const c of iterable) chunks.push(c);
  return chunks;
}

describe('SSE framing over fetch', () => {
  for (const script of ['lf', 'cr', 'split']) {
    test(`${script}: chunks arrive in order, then exactly one done chunk`, async () => {
      const chunks = await drain(clientFor(script).stream('hi'));
      assert.deepEqual(
        chunks.map((c) => [c.text, c.done]),
        [
          ['Hello', false],
          [', world', false],
          ['', true],
        ],
      );
      assert.deepEqual(chunks[0], { text: 'Hello', done: false, model: 'm1', provider: 'p1', contextId: 'c1', dialect: 'v1' });
    });
  }

  test('a [DONE] line from another server ends the stream without a second done chunk', async () => {
    const chunks = await drain(clientFor('done').stream('hi'));
    assert.equal(chunks.filter((c) => c.done).length, 1);
    assert.equal(chunks.map((c) => c.text).join(''), 'Hello, world');
  });

  test('a connection cut after text is an IncompleteStreamError keeping the partial text', async () => {
    const error = await drain(clientFor('cut').stream('hi')).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof IncompleteStreamError, String(error));
    assert.equal(error.partialText, 'Hello');
  });
});

describe('requests', () => {
  test('the base path prefix is kept and the bearer token is sent', async () => {
    seen.length = 0;
    await drain(clientFor('lf').stream('hi'));
    assert.equal(seen[0].url, '/prefix/lf/api/v1/chat/stream');
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(JSON.parse(seen[0].body), { messages: [{ role: 'user', content: 'hi' }], stream: true });
  });

  test('the token never appears in error messages, error details or the client repr', async () => {
    const client = clientFor('echoauth');
    const error = await client.generateText('hi').catch((e) => e);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.status, 401);
    assert.match(error.message, /bad credentials: Bearer \*\*\*/);
    for (const text of [error.message, String(error), inspect(error, { depth: 5 }), JSON.stringify(error.details)]) {
      assert.equal(text.includes(TOKEN), false, text);
    }
    for (const text of [inspect(client, { depth: 5 }), JSON.stringify(client), String(client)]) {
      assert.equal(text.includes(TOKEN), false, text);
    }
    assert.equal(client.toJSON().authToken, '***');
  });

  test('a text/plain 500 keeps the status and the text', async () => {
    const error = await clientFor('plain500').generateText('hi').catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 500);
    assert.match(error.message, /answered 500: Internal Server Error$/);
  });

  test('a 422 detail list becomes a ValidationError with its errors', async () => {
    const error = await clientFor('list422').chat([{ role: 'user', content: 'x' }]).catch((e) => e);
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 422);
    assert.equal(error.errors[0].msg, 'Field required');
    assert.match(error.message, /body\.messages: Field required/);
  });

  test('a closed port is a ConnectionError once retries are used up; health reports it too', async () => {
    const closed = createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const client = new TektonLLMClient({ rhetorUrl: `http://127.0.0.1:${port}`, maxRetries: 2, backoffBase: 1 });
    const error = await client.generateText('hi').catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.retryable, true);
    await assert.rejects(client.health(), ConnectionError);
  });

  test('a relative rhetorUrl outside a browser is a configuration error, not a crash', async () => {
    const client = new TektonLLMClient({ dialect: 'v1', maxRetries: 0 });
    assert.equal(client.rhetorUrl, '/api/llm');
    assert.equal(client.rhetorWsUrl, 'ws://localhost:8003/ws');
    await assert.rejects(client.generateText('hi'), { name: 'ConfigurationError' });
  });
});
