/**
 * The built-in base profile name for the runc that `runc --version` describes: "runc version 1.1.5+ds1" ->
 * "runc-v1.1.5". Distribution suffixes (+ds1, ~rc) are dropped: the name must be a DNS-1123 subdomain.
 */
export function runcBaseName(versionOutput: string): string | undefined {
  const m = /^runc version v?(\d+\.\d+\.\d+)/m.exec(versionOutput);
  return m === null ? undefined : `runc-v${m[1]}`;
}
