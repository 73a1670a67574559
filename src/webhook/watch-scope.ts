/**
 * Single-namespace mode: the warning for a review from another namespace (the webhook configuration should
 * never send one, so it names the mode and the likely cause), or undefined when the review is ours to decide.
 */
export function outsideWatchedNamespace(
  namespace: string,
  watchNamespace: string | undefined,
): string | undefined {
  if (watchNamespace === undefined || namespace === watchNamespace) return undefined;
  return (
    `seccomp-profiles-operator runs in single-namespace mode for namespace "${watchNamespace}": ` +
    `pod in namespace "${namespace || '(none)'}" admitted unchanged (check the webhook configuration's namespaceSelector)`
  );
}
