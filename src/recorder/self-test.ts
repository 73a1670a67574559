import { AppError } from '../errors.js';
import { type Arch, syscallNumber } from '../profiles/syscalls/index.js';
import { launchInFreshMntns } from './launcher.js';
import type { Recorder } from './recorder.js';

/**
 * Proves the recorder works end to end before anyone relies on it: load, attach, see a child in a fresh mount
 * namespace exec, detach. The child is spo-exec itself run without arguments (it prints its usage and exits),
 * so nothing outside our own build is needed.
 */
export async function selfTest(recorder: Recorder, helper: string, arch: Arch): Promise<void> {
  const execve = syscallNumber(arch, 'execve');
  if (execve === undefined)
    throw new AppError('ERR_RECORDER_SELF_TEST', `no execve in the ${arch} syscall table`);
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
}
