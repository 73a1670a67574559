/**
 * Passes SIGINT/SIGTERM on to a child while we wait for it. A Ctrl-C on a terminal reaches the child by itself
 * (same process group), so ours follows only if the child has not exited shortly after; a second signal kills it.
 * Returns the function that removes the handlers.
 */
export function forwardSignals(
  target: () => number | undefined,
  onSignal?: (signal: NodeJS.Signals) => void,
): () => void {
  let count = 0;
  const timers: NodeJS.Timeout[] = [];
  const send = (signal: NodeJS.Signals) => {
    const pid = target();
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  const handler = (signal: NodeJS.Signals) => {
    count++;
    onSignal?.(signal);
    if (count > 1) {
      send('SIGKILL');
      return;
    }
    timers.push(setTimeout(() => send(signal), 100).unref());
    timers.push(setTimeout(() => send('SIGKILL'), 10_000).unref());
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    for (const t of timers) clearTimeout(t);
  };
}
