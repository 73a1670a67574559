import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { type Arch, syscallNumber } from '../profiles/syscalls/index.js';
import { launchInFreshMntns } from './launcher.js';
import type { Recorder } from './recorder.js';

/**
 * Proves the recorder works end to end before anyone relies on it: load, attach, see a child in a fresh mount
 * namespace exec, detach. The child is spo-exec itself run without arguments (it prints its usage and exits),
 * so nothing outside our own build is needed. Each step is logged, so a node that fails says how far it got.
 */
export async function selfTest(recorder: Recorder, helper: string, arch: Arch, log?: Logger): Promise<void> {
  const execve = syscallNumber(arch, 'execve');
  if (execve === undefined)
    throw new AppError('ERR_RECORDER_SELF_TEST', `no execve in the ${arch} syscall table`);
  recorder.open();
  log?.info({ step: 'load' }, 'self-test: eBPF program loaded');
  const launched = await launchInFreshMntns({
    helper,
    argv: [helper],
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    recorder.track(launched.mntns, launched.pin);
  } catch (e) {
    launched.pin.release();
    launched.child.kill('SIGKILL');
    await launched.exited;
    throw e;
  }
  log?.info(
    { step: 'attach', mntns: launched.mntns, attached: recorder.attached },
    'self-test: program attached, child started in a fresh mount namespace',
  );
  launched.release();
  await launched.exited;
  const seen = recorder.untrack(launched.mntns);
  if (!seen.native.has(execve)) {
    throw new AppError(
      'ERR_RECORDER_SELF_TEST',
      `recorder self-test: a child in mount namespace ${launched.mntns} ran, but the recorder saw ${seen.native.size} ` +
        'syscalls and not its execve',
    );
  }
  log?.info(
    { step: 'child seen', mntns: launched.mntns, syscalls: seen.native.size },
    'self-test: the child was recorded (execve seen)',
  );
  log?.info({ step: 'detach', attached: recorder.attached }, 'self-test: program detached; self-test passed');
}
