// One attempt's cancellation: an AbortController linked to the caller's signal plus a re-armable timer, so the
// transports can tell apart "the caller aborted" (AbortError), "a deadline passed" (TimeoutError) and "the
// network failed" (ConnectionError) when fetch or a read rejects with a generic error.

import { AbortError, ConnectionError, TektonLLMError, TimeoutError, abortErrorFrom } from './errors.js';

export class Deadline {
  #signal;
  #timer = null;
  #onAbort;
  #timedOut = null;

  constructor(signal) {
    this.#signal = signal ?? null;
    this.controller = new AbortController();
    this.#onAbort = () => this.controller.abort(this.#signal?.reason);
    if (this.#signal?.aborted) this.controller.abort(this.#signal.reason);
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The signal to hand to fetch and to readers. */
  get signal() {
    return this.controller.signal;
  }

  /** (Re)start the timer: after `ms` the attempt is aborted as a timeout of `kind`. Null or Infinity disarms. */
  arm(ms, kind) {
    this.disarm();
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = kind;
      this.controller.abort(new TimeoutError(`no answer within ${ms} ms`, { kind }));
    }, Math.max(0, ms));
  }

  disarm() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Stop the timer and unlink from the caller's signal. */
  dispose() {
    this.disarm();
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  /** Map whatever a fetch or read rejected with to the client's error tree. */
  mapError(error, what) {
    if (this.#signal?.aborted) return error instanceof AbortError ? error : abortErrorFrom(this.#signal);
    if (this.#timedOut !== null) return new TimeoutError(`${what}: ${this.#timedOut.replace('_', ' ')} timeout`, { kind: this.#timedOut });
    if (error instanceof TektonLLMError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new ConnectionError(`${what}: ${reason}`, { cause: error });
  }
}
