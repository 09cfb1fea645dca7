// Shared helpers for the SDK scenario scripts. Each script drives the official TypeScript SDK (unchanged) against
// the server at CHUNKR_BASE_URL with CHUNKR_API_KEY and prints one JSON object on stdout for pytest to check.
import { readFileSync } from 'node:fs';
import Chunkr from 'chunkr-ai';

export function client(options = {}) {
  // The SDK reads CHUNKR_BASE_URL / CHUNKR_API_KEY itself; passing them again would hide a missing variable.
  return new Chunkr({ timeout: 30_000, ...options });
}

// An SDK error as plain data: its class tells which status family the SDK recognised.
export function describe(error) {
  return {
    class: error?.constructor?.name ?? typeof error,
    status: error?.status ?? null,
    message: String(error?.message ?? error),
    body: error?.error ?? null,
  };
}

export async function attempt(fn) {
  try {
    const value = await fn();
    return { ok: true, value: value === undefined ? null : value };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

// The SDK has no poll helper; a client polls tasks.get until `completed`.
export async function waitDone(sdk, taskId, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await sdk.tasks.get(taskId, { include_chunks: false });
    if (task.completed) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function emit(result) {
  process.stdout.write(JSON.stringify(result));
}

export async function main(fn) {
  try {
    emit(await fn());
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n${JSON.stringify(describe(error))}\n`);
    process.exit(1);
  }
}

// Inputs arrive as one JSON document on stdin: documents as base64 can exceed the argv length limit.
export function input() {
  const text = readFileSync(0, 'utf8');
  return text.trim() ? JSON.parse(text) : {};
}
