// Starts the Python Rhetor test server (tekton_llm_client.testing) as a subprocess on 127.0.0.1, port 0, and
// wraps its control API. The interpreter comes from TEKTON_PYTHON (set by the nox session), else python3.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const STARTUP_TIMEOUT_MS = 30000;

/** Faults every test starts from: no artificial delays, fast pings off. */
export const FAST = Object.freeze({ chunk_delay: 0 });

export async function startRhetor(profile = 'v1') {
  const python = process.env.TEKTON_PYTHON || 'python3';
  const child = spawn(python, ['-m', 'tekton_llm_client.testing', '--profile', profile, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr = (stderr + text).slice(-4000);
  });
  const info = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`test server (${profile}) did not start within ${STARTUP_TIMEOUT_MS} ms:\n${stderr}`));
    }, STARTUP_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`unexpected first line from the test server: ${line}\n${stderr}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`test server (${profile}) exited with ${code} (interpreter ${python}):\n${stderr}`));
    });
  });
  child.stdout.resume();
  const server = new RhetorServer(child, info);
  await server.reset();
  return server;
}

class RhetorServer {
  constructor(child, info) {
    this.child = child;
    this.url = info.url.replace(/\/+$/, '');
    this.wsUrl = info.ws_url;
    this.profile = info.profile;
  }

  async #control(method, path, body) {
    const response = await fetch(`${this.url}/_testing/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(`control API ${path}: ${response.status} ${JSON.stringify(data)}`);
    return data;
  }

  /** Set fault fields (merged over the current ones). */
  faults(changes) {
    return this.#control('POST', 'faults', changes);
  }

  /** Forget faults and recordings, then drop the simulated delays so tests stay fast. */
  async reset() {
    await this.#control('POST', 'reset');
    await this.faults(FAST);
  }

  /** Everything recorded: `{requests: [...], ws_frames: [...]}`. */
  recorded() {
    return this.#control('GET', 'requests');
  }

  /** Recorded HTTP requests to `path` (optionally one method), in order. */
  async requestsTo(path, method) {
    const { requests } = await this.recorded();
    return requests.filter((r) => r.path === path && (method === undefined || r.method === method));
  }

  async frames() {
    return (await this.recorded()).ws_frames;
  }

  stop() {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) {
        resolve();
        return;
      }
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

const CHAT_SUFFIX = {
  'simulated-fast': '\n\nAs the fast simulation model, I would typically provide quicker responses with less context retention.',
  'simulated-advanced':
    '\n\nAs the advanced simulation model, I would typically maintain better context across a conversation thread.',
};
const MESSAGE_SUFFIX = {
  'simulated-fast': '\n\nAs the fast simulation model, I would typically provide quicker but potentially less detailed responses.',
  'simulated-advanced':
    '\n\nAs the advanced simulation model, I would typically provide more detailed and nuanced responses with better reasoning capabilities.',
};

function systemSuffix(system) {
  if (!system) return '';
  return `\n\nThe system prompt was: "${system.length > 50 ? `${system.slice(0, 50)}...` : system}"`;
}

/** The test server's simulated chat text (rhetor-protocol.md §14.2), written out independently to assert on. */
export function simulatedChat(lastUser, count, { system, model = 'simulated-fast' } = {}) {
  return (
    `I received your message: "${lastUser}". I see a conversation with ${count} messages. ` +
    'This is a simulated chat response as no real LLM is available. ' +
    systemSuffix(system) +
    (CHAT_SUFFIX[model] ?? '')
  );
}

/** The simulated single-message text (`/message`, `/stream`, `LLM_REQUEST`). */
export function simulatedMessage(message, { system, model = 'simulated-fast' } = {}) {
  return (
    `I received your message: "${message}". This is a simulated response as no real LLM is available. ` +
    'Please configure Rhetor with valid API keys for Anthropic, OpenAI, or ensure Ollama is running for local LLM access.' +
    systemSuffix(system) +
    (MESSAGE_SUFFIX[model] ?? '')
  );
}
