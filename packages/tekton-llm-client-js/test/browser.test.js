// End to end in headless Chromium: a page served by a tiny local Node server imports the ES module as is, streams
// an answer from the Python Rhetor test server (cross-origin, so CORS and the preflight are exercised) into the
// DOM, then asks once more over the browser's own WebSocket; the test asserts on the rendered text. Debian's
// /usr/bin/chromium (or the binary CHROMIUM_PATH names) is driven by playwright-core; no browser is ever
// downloaded. Missing Chromium skips locally, with the reason, and fails under CI.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { simulatedChat, startRhetor } from './helpers/rhetor.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PROMPT = 'Hello from the browser';
const WS_PROMPT = 'And over the browser WebSocket';

const PAGE = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>Tekton LLM client</title></head>
<body>
  <h1>Rhetor says</h1>
  <p id="answer"></p>
  <p id="ws-answer"></p>
  <p id="status">waiting</p>
  <script type="module">
    import { TektonLLMClient, TektonLLMWebSocketClient } from '/src/index.js';
    const params = new URLSearchParams(location.search);
    const client = new TektonLLMClient({ rhetorUrl: params.get('rhetor'), componentId: 'browser' });
    const answer = document.getElementById('answer');
    const status = document.getElementById('status');
    let chunks = 0;
    try {
      const result = await client.streamText(params.get('prompt'), (chunk) => {
        if (chunk.text) {
          chunks += 1;
          answer.append(document.createTextNode(chunk.text));
        }
      });
      // The browser's own WebSocket (globalThis.WebSocket), no implementation passed in.
      const socket = new TektonLLMWebSocketClient({ url: params.get('ws'), componentId: 'browser' });
      const overWs = await socket.generate(params.get('wsPrompt'));
      socket.close();
      document.getElementById('ws-answer').textContent = overWs.text;
      status.dataset.chunks = String(chunks);
      status.dataset.dialect = result.dialect;
      status.textContent = 'done';
    } catch (error) {
      status.textContent = 'failed: ' + error.name + ': ' + error.message;
    }
  </script>
</body>
</html>`;

let rhetor;
let pages;
let pagesUrl;

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  rhetor = await startRhetor('v1');
  await rhetor.faults({ chunk_delay: 0.005 });
  pages = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    const file = normalize(join(SRC, path.replace(/^\/src\//, '')));
    if (path.startsWith('/src/') && file.startsWith(SRC) && file.endsWith('.js') && existsSync(file)) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(await readFile(file));
      return;
    }
    // Anything else (the browser's own favicon request included) has no content.
    res.writeHead(path === '/favicon.ico' ? 204 : 404);
    res.end();
  });
  await new Promise((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${pages.address().port}`;
});

after(async () => {
  await rhetor?.stop();
  if (pages) await new Promise((resolve) => pages.close(resolve));
});

test('headless Chromium streams an answer into the page', { timeout: 60000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) assert.fail(`${CHROMIUM} is missing; CI installs it (apt-get install -y chromium) or sets CHROMIUM_PATH`);
    t.skip(`${CHROMIUM} not installed (apt-get install -y chromium, or set CHROMIUM_PATH); browser test skipped`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'tekton-llm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const query = new URLSearchParams({ rhetor: rhetor.url, prompt: PROMPT, ws: rhetor.wsUrl, wsPrompt: WS_PROMPT });
    await page.goto(`${pagesUrl}/?${query}`);
    await page.waitForFunction(() => document.getElementById('status').textContent !== 'waiting', null, {
      timeout: 30000,
    });
    const status = await page.textContent('#status');
    assert.equal(status, 'done', `page reported: ${status}; console: ${problems.join(' | ')}`);
    const rendered = await page.textContent('#answer');
    t.diagnostic(`rendered text: ${JSON.stringify(rendered)}`);
    const expected = simulatedChat(PROMPT, 1);
    assert.equal(rendered, expected);
    const chunks = Number(await page.getAttribute('#status', 'data-chunks'));
    assert.equal(chunks, Math.ceil(expected.length / 10));
    assert.equal(await page.getAttribute('#status', 'data-dialect'), 'v1');
    const overWs = await page.textContent('#ws-answer');
    t.diagnostic(`rendered WebSocket text: ${JSON.stringify(overWs)}`);
    assert.equal(overWs, simulatedChat(WS_PROMPT, 1));
    assert.deepEqual(problems, []);

    const streamed = await rhetor.requestsTo('/api/v1/chat/stream', 'POST');
    assert.equal(streamed.length, 1);
    assert.equal(streamed[0].headers.origin, pagesUrl, 'the request came from the page, cross-origin');
    assert.deepEqual(streamed[0].body.messages, [{ role: 'user', content: PROMPT }]);
    const frames = await rhetor.frames();
    assert.deepEqual(frames.map((f) => f.data.messages), [[{ role: 'user', content: WS_PROMPT }]]);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
});
