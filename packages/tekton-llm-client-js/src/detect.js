// Which Rhetor generation answers at a base URL, by the order of rhetor-protocol.md §11.2, using only requests
// that generate no text. The client runs this once and caches the answer.

import { ConnectionError, ProtocolError, TimeoutError } from './errors.js';

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Read a `/health` body: `v1` (probably; needs confirming), `classic`, `adapter` or `unknown`. */
export function generationFromHealth(body) {
  if (!isObject(body)) return 'unknown';
  if ('claude_available' in body) return 'adapter';
  if (isObject(body.providers)) return 'classic';
  if (body.component === 'rhetor') return isObject(body.details) && 'providers' in body.details ? 'classic' : 'v1';
  return 'unknown';
}

function isTransportFailure(error) {
  return error instanceof ConnectionError || error instanceof TimeoutError;
}

/**
 * Detect the generation behind `http` (an HttpTransport). Connection failures propagate (Rhetor unavailable);
 * HTTP errors on the probes are facts to read, not failures.
 */
export async function detectDialect(http, { signal, timeout } = {}) {
  const probe = { signal, timeout, accept: [400, 404, 405, 422, 500, 501, 502, 503, 504] };
  let guess = 'unknown';
  try {
    const health = await http.json('GET', '/health', probe);
    if (health.status === 200) guess = generationFromHealth(health.body);
  } catch (error) {
    if (isTransportFailure(error)) throw error;
    // An unreadable health body is not decisive: go on with the other probes.
  }
  if (guess === 'adapter') {
    throw new ProtocolError('the server is the legacy LLM Adapter service, not Rhetor; this client speaks Rhetor only');
  }
  if (guess === 'classic') return 'classic';

  try {
    const discovery = await http.json('GET', '/api/v1/discovery', probe);
    const endpoints = discovery.status === 200 && Array.isArray(discovery.body?.endpoints) ? discovery.body.endpoints : [];
    if (endpoints.some((endpoint) => endpoint?.path === '/api/v1/chat/stream')) return 'v1';
    const providers = await http.json('GET', '/providers', probe);
    if (providers.status === 200) return 'classic';
    const chat = await http.json('POST', '/api/v1/chat', { ...probe, body: {} });
    if (chat.status === 422) return 'v1';
    if (chat.status === 404 || chat.status === 405) return 'classic';
  } catch (error) {
    if (isTransportFailure(error)) throw error;
  }
  if (guess === 'v1') return 'v1';
  throw new ProtocolError('cannot tell which Rhetor generation answers (neither v1 nor classic routes found)');
}
