import type { CommandEntry } from '../command.js';

/**
 * Every subcommand `seccompctl` lists; only commands that work belong here. Each module is imported when its
 * command runs (or shows its help), not before: the summary is repeated here so the overview loads nothing,
 * and test/unit/cli/dispatch.test.ts checks it matches the module's.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'check profiles, bindings and recordings against the CRD schema',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  {
    name: 'merge',
    summary: 'union of several profiles (or check that the first covers the rest)',
    load: async () => (await import('./merge.js')).mergeCommand,
  },
  {
    name: 'diff',
    summary: 'what changes in behaviour from profile A to profile B',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  {
    name: 'convert',
    summary: 'SeccompProfile YAML <-> raw OCI seccomp JSON',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  {
    name: 'record',
    summary: 'record the syscalls of a command (eBPF) into a seccomp profile',
    load: async () => (await import('./record.js')).recordCommand,
  },
  {
    name: 'run',
    summary: 'run a command under a seccomp profile, naming any denied syscall',
    load: async () => (await import('./run.js')).runCommand,
  },
  {
    name: 'webhook',
    summary: 'serve the binding and recording admission webhooks over HTTPS',
    load: async () => (await import('./webhook.js')).webhookCommand,
  },
  {
    name: 'manager',
    summary: 'run the operator manager: webhook certificates, namespace opt-in, binding usage',
    load: async () => (await import('./manager.js')).managerCommand,
  },
  {
    name: 'daemon',
    summary: 'run the node daemon: write every SeccompProfile to this node, report per-node status',
    load: async () => (await import('./daemon.js')).daemonCommand,
  },
  {
    name: 'enricher',
    summary: 'run the log enricher: attribute seccomp audit records to pods, serve them over gRPC',
    load: async () => (await import('./enricher.js')).enricherCommand,
  },
  {
    name: 'recorder',
    summary: 'run the node recorder: eBPF syscall recording of containers behind a gRPC unix socket',
    load: async () => (await import('./recorder.js')).recorderCommand,
  },
];
