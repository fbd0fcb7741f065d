// Server-sent events over a fetch ReadableStream. Rhetor streams answer POST requests, so EventSource cannot be
// used; this parser follows the WHATWG framing rules that matter here: CRLF, LF and lone CR line ends (a CR at
// the end of one network chunk may be followed by the LF in the next), `:` comment lines (Rhetor's `: ping`),
// `event:` lines, multi-line `data:`, and streams that end by close instead of a sentinel.

/**
 * Incremental parser: feed text with `push`, read complete events from its return value, call `end` at EOF.
 * Kept separate from the byte reading so it can be driven by any source.
 */
export class SSEParser {
  #buffer = '';
  #pendingCR = false;
  #data = [];
  #event = '';
  #hasData = false;
  #first = true;

  /** Feed decoded text; returns the events completed by it, in order. */
  push(text) {
    const events = [];
    let chunk = text;
    if (this.#first && chunk.length > 0) {
      this.#first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (chunk.startsWith('\n')) chunk = chunk.slice(1);
    }
    this.#buffer += chunk;
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i += 1) {
      const ch = this.#buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.#buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 < this.#buffer.length) {
          if (this.#buffer[i + 1] === '\n') i += 1;
        } else {
          this.#pendingCR = true;
        }
      }
      start = i + 1;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  /**
   * Finish at EOF. A last line without a line end is still a line, and a pending event without its blank line
   * is dispatched: close-terminated servers may omit the final blank line.
   */
  end() {
    const events = [];
    if (this.#buffer.length > 0) {
      const event = this.#line(this.#buffer);
      this.#buffer = '';
      if (event) events.push(event);
    }
    const last = this.#dispatch();
    if (last) events.push(last);
    return events;
  }

  #line(line) {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.#data.push(value);
      this.#hasData = true;
    } else if (field === 'event') {
      this.#event = value;
    }
    // `id` and `retry` are never sent by Rhetor and have no use for a POST stream; unknown fields are ignored.
    return null;
  }

  #dispatch() {
    const event = this.#hasData ? { event: this.#event || 'message', data: this.#data.join('\n') } : null;
    this.#data = [];
    this.#event = '';
    this.#hasData = false;
    return event;
  }
}

/**
 * Yield `{event, data}` objects from a ReadableStream of bytes until the stream closes.
 * Uses a reader rather than async iteration of the stream, which older browsers lack.
 */
export async function* readSSE(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SSEParser();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) yield event;
    }
    const tail = decoder.decode();
    for (const event of parser.push(tail)) yield event;
    for (const event of parser.end()) yield event;
    finished = true;
  } finally {
    if (!finished) {
      // The consumer stopped early or reading failed: release the connection instead of draining it.
      reader.cancel().catch(() => {});
    }
    try {
      reader.releaseLock();
    } catch {
      // Nothing to release: the stream is already errored or cancelled.
    }
  }
}
