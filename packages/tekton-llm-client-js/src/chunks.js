// The caller-facing stream shapes, shared by the HTTP and WebSocket paths: text chunks, exactly one final
// `done` chunk per answer, the aggregate response, and how a failure is reported once text was delivered.

import { AbortError, EmptyAnswerError, IncompleteStreamError, TektonLLMError } from './errors.js';

/** A stream chunk as callers see it, whatever the wire shape was. */
export function makeChunk(parsed, dialect, done = false) {
  return {
    text: done ? '' : parsed.text ?? '',
    done,
    model: parsed.model ?? null,
    provider: parsed.provider ?? null,
    contextId: parsed.contextId ?? null,
    dialect,
  };
}

/**
 * Tracks one answer: the text so far and the latest metadata, so the closing chunk and any error can say what
 * arrived. Empty text chunks (e.g. the provider-unavailable chunk, a classic terminator) are not surfaced.
 */
export class AnswerState {
  constructor(dialect) {
    this.dialect = dialect;
    this.text = '';
    this.meta = { model: null, provider: null, contextId: null };
  }

  /** Record a parsed chunk; returns the caller chunk to yield, or null when it carries no text. */
  take(parsed) {
    for (const key of ['model', 'provider', 'contextId']) if (parsed[key]) this.meta[key] = parsed[key];
    if (!parsed.text) return null;
    this.text += parsed.text;
    return makeChunk({ ...this.meta, text: parsed.text }, this.dialect);
  }

  final() {
    return makeChunk(this.meta, this.dialect, true);
  }

  /**
   * A failure after text was delivered becomes IncompleteStreamError keeping the text (the original is its
   * `cause`); before any text, and for the caller's own abort, the error stays as it is.
   */
  fail(error) {
    if (this.text === '' || !(error instanceof TektonLLMError)) return error;
    if (error instanceof AbortError) return error;
    if (error instanceof IncompleteStreamError) {
      error.partialText ??= this.text;
      return error;
    }
    return new IncompleteStreamError(`stream broke after ${this.text.length} characters: ${error.message}`, {
      dialect: this.dialect,
      status: error.status,
      partialText: this.text,
      cause: error,
    });
  }

  /** The end of an answer: the final chunk, or EmptyAnswerError when no text arrived at all. */
  finish() {
    if (this.text === '') throw new EmptyAnswerError('Rhetor returned an empty answer', { dialect: this.dialect });
    return this.final();
  }
}

/** Drain a chunk stream into one response, calling `onChunk` for each chunk (the final one included). */
export async function collect(chunks, onChunk) {
  let text = '';
  let last = null;
  for await (const chunk of chunks) {
    if (onChunk) await onChunk(chunk);
    text += chunk.text;
    last = chunk;
  }
  return {
    text,
    model: last?.model ?? null,
    provider: last?.provider ?? null,
    contextId: last?.contextId ?? null,
    usage: null,
    dialect: last?.dialect ?? null,
  };
}
