import type { Status, WatchEvent } from './types.js';

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** One line of a watch stream: `{"type": ..., "object": ...}`. Anything else throws; the stream is then broken. */
export function parseWatchEvent<T>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw new Error(`watch event is not JSON: ${(e as Error).message}`);
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    typeof event.type !== 'string' ||
    !TYPES.has(event.type) ||
    event.object === null ||
    typeof event.object !== 'object'
  ) {
    throw new Error(`not a watch event: ${line.slice(0, 200)}`);
  }
  if (event.type === 'ERROR') return { type: 'ERROR', object: event.object as Status };
  return { type: event.type as 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK', object: event.object as T };
}
