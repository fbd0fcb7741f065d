// The logical request: what the caller means, before a dialect puts it on the wire (rhetor-protocol.md §13).
// Built once per call from the caller's input and the client's defaults, for HTTP and WebSocket alike.

/**
 * Normalise the caller's input into the logical request the dialects map (shared with the HTTP client).
 * A string is one user prompt; an array is a message list; the system prompt travels separately.
 */
export function buildLogicalRequest(input, options, defaults) {
  let messages;
  let single = false;
  if (typeof input === 'string') {
    messages = [{ role: 'user', content: input }];
    single = true;
  } else if (Array.isArray(input)) {
    messages = input.map((message) => ({ role: String(message.role), content: String(message.content ?? '') }));
  } else {
    throw new TypeError('expected a prompt string or an array of {role, content} messages');
  }
  let systemPrompt = options.systemPrompt ?? defaults.systemPrompt;
  if (!single && systemPrompt === undefined && messages[0]?.role === 'system') {
    // A leading system message is the system prompt: every generation places it differently.
    systemPrompt = messages[0].content;
    messages = messages.slice(1);
  }
  if (messages.length === 0) throw new TypeError('at least one message is required');
  return {
    messages,
    single,
    systemPrompt: systemPrompt ?? undefined,
    model: options.model ?? defaults.model,
    provider: options.provider ?? defaults.provider,
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    contextId: options.contextId ?? defaults.contextId ?? defaults.componentId,
    taskType: options.taskType,
    component: defaults.componentId,
    stream: true,
  };
}

