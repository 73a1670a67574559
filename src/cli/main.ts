#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from './commands/index.js';
import { runCli } from './dispatch.js';

// The same file runs from src/ (tsx) and from dist/src/ (built), so find package.json by walking up.
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'seccomp-profiles-operator' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env },
  COMMANDS,
  packageVersion(),
);
process.exitCode = code;
// A role that has shut down should not linger because a library left a socket or timer behind; the timer is
// unref'd, so a process with nothing left exits at once and never waits for it.
setTimeout(() => process.exit(code), 5_000).unref();
