// Compiled with `tsc --noEmit --strict` (npm run typecheck): the published types must accept the README's uses
// and reject wrong ones. Nothing here runs.

import WebSocket from 'ws';

import {
  AbortError,
  EmptyAnswerError,
  IncompleteStreamError,
  RateLimitError,
  TektonLLMClient,
  TektonLLMError,
  TektonLLMWebSocketClient,
  TimeoutError,
  ValidationError,
  type ChatMessage,
  type Dialect,
  type LLMResponse,
  type StreamChunk,
} from '@tekton/llm-client';

const client = new TektonLLMClient({
  rhetorUrl: 'http://localhost:8003',
  componentId: 'hermes',
  authToken: 'token',
  dialect: 'auto',
  timeout: 30000,
  maxRetries: 3,
  fetch: globalThis.fetch,
  WebSocket,
});

export async function uses(signal: AbortSignal): Promise<string> {
  const answer: LLMResponse = await client.generateText('Hello', { systemPrompt: 'Be brief.', temperature: 0.2, signal });
  const history: ChatMessage[] = [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Hi' },
  ];
  const reply = await client.chat(history, { model: 'simulated-fast', maxTokens: 100 });
  const streamed = await client.streamText('Tell me', (chunk: StreamChunk) => {
    const text: string = chunk.text;
    const done: boolean = chunk.done;
    void [text, done];
  });
  let text = '';
  for await (const chunk of client.stream(history, { signal })) {
    if (!chunk.done) text += chunk.text;
  }
  const dialect: Dialect = await client.getDialect();
  const health = await client.health();
  const healthy: boolean = health.healthy;

  const ws = new TektonLLMWebSocketClient({ url: client.rhetorWsUrl, dialect: 'classic', WebSocket, componentId: 'terma' });
  await ws.connect();
  const wsAnswer = await ws.generate('over ws', { onChunk: (c) => void c.text, contextId: 'terma:1' });
  for await (const chunk of ws.stream([{ role: 'user', content: 'x' }])) text += chunk.text;
  ws.close();
  client.close();
  return [answer.text, reply.model ?? '', streamed.text, text, dialect, String(healthy), wsAnswer.text].join();
}

export function handle(error: unknown): string {
  if (error instanceof RateLimitError) return `retry after ${error.retryAfter ?? 0} ms`;
  if (error instanceof ValidationError) return `${error.status}: ${error.errors.length} problems`;
  if (error instanceof IncompleteStreamError) return error.partialText;
  if (error instanceof TimeoutError) return error.kind;
  if (error instanceof EmptyAnswerError || error instanceof AbortError) return error.name;
  if (error instanceof TektonLLMError) return `${error.status ?? '-'} ${error.retryable}`;
  return 'unknown';
}

// Wrong uses must not compile.
// @ts-expect-error the prompt is a string or a message list
void client.generateText(42);
// @ts-expect-error dialect is 'auto', 'v1' or 'classic'
void new TektonLLMClient({ dialect: 'v2' });
// @ts-expect-error streamText needs a callback
void client.streamText('x');
