// The retry policy, in one place and the same as the Python client's: retry connection errors, timeouts,
// 408/409/429 and 5xx, never other 4xx; exponential backoff with jitter and a cap; honour Retry-After
// (seconds or HTTP date) up to a bound; streams are retried only before their first event reached the caller.

import { TektonLLMError, abortErrorFrom, throwIfAborted } from './errors.js';

export const DEFAULT_RETRY_POLICY = Object.freeze({
  maxRetries: 3,
  backoffBase: 500,
  backoffCap: 8000,
  retryAfterCap: 30000,
});

/**
 * Raised inside an attempt to say "run this request again on the other transport now". It does not count as
 * a retry: the client switches transport at most once per lifetime, so the loop cannot spin on it.
 */
export class TransportSwitch extends Error {
  constructor(cause) {
    super('switching transport', { cause });
    this.name = 'TransportSwitch';
  }
}

/** Whether another attempt may succeed. Aborts and caller mistakes are final. */
export function isRetryable(error) {
  return error instanceof TektonLLMError && error.retryable === true;
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return null;
  return Math.max(0, when - now);
}

/** Exponential backoff capped at `backoffCap`, with full jitter (as the Python client) so clients spread out. */
export function backoffDelay(attempt, policy = DEFAULT_RETRY_POLICY, random = Math.random) {
  const ceiling = Math.min(policy.backoffCap, policy.backoffBase * 2 ** attempt);
  return ceiling * random();
}

/** The wait before retry number `attempt + 1`: the server's Retry-After hint (bounded) or the backoff. */
export function retryDelay(error, attempt, policy = DEFAULT_RETRY_POLICY, random = Math.random) {
  const hint = error?.retryAfter;
  if (typeof hint === 'number' && Number.isFinite(hint) && hint >= 0) return Math.min(hint, policy.retryAfterCap);
  return backoffDelay(attempt, policy, random);
}

/** Wait `ms`, or reject with an AbortError as soon as `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortErrorFrom(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortErrorFrom(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run `attempt(n)` until it succeeds, the error is final, or the retries are used up. */
export async function withRetries(attempt, policy, signal) {
  for (let n = 0; ; ) {
    throwIfAborted(signal);
    try {
      return await attempt(n);
    } catch (error) {
      if (error instanceof TransportSwitch) continue;
      if (!isRetryable(error) || n >= policy.maxRetries || signal?.aborted) throw error;
      await sleep(retryDelay(error, n, policy), signal);
      n += 1;
    }
  }
}

/**
 * Iterate `start(n)` (an async iterable per attempt), retrying only while nothing has been yielded yet: once the
 * caller has seen an event, a failure is final, so text is never repeated or spliced.
 */
export async function* retryStream(start, policy, signal) {
  for (let n = 0; ; ) {
    throwIfAborted(signal);
    let delivered = false;
    try {
      for await (const item of start(n)) {
        delivered = true;
        yield item;
      }
      return;
    } catch (error) {
      if (delivered) throw error;
      if (error instanceof TransportSwitch) continue;
      if (!isRetryable(error) || n >= policy.maxRetries || signal?.aborted) throw error;
      await sleep(retryDelay(error, n, policy), signal);
      n += 1;
    }
  }
}
