import type { MntnsSyscalls } from '../../../src/recorder/aggregate.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import { nativePaths } from '../../../src/recorder/native.js';
import type { Recorder } from '../../../src/recorder/recorder.js';

/** Runs argv in a fresh mount namespace that `recorder` tracks from before the exec; returns what it recorded. */
export async function recordCommand(recorder: Recorder, argv: string[]): Promise<MntnsSyscalls> {
  const launched = await launchInFreshMntns({
    helper: nativePaths().helper,
    argv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  recorder.track(launched.mntns, launched.pin);
  launched.release();
  const status = await launched.exited;
  if (status.code !== 0) throw new Error(`${argv.join(' ')} exited with ${status.code}`);
  return recorder.untrack(launched.mntns);
}
