import t from 'tap';
import { profileLocation, renderProfileFile, seccompRoot } from '../../../src/daemon/profile-path.js';

t.test('the documented location', async (t) => {
  t.same(profileLocation('my-namespace', 'profile1'), {
    localhostProfile: 'operator/my-namespace/profile1.json',
    segments: ['operator', 'my-namespace', 'profile1.json'],
  });
  t.equal(seccompRoot('/var/lib/kubelet/'), '/var/lib/kubelet/seccomp');
});

t.test('hostile names never become paths', async (t) => {
  for (const [ns, name] of [
    ['default', '../../etc/cron.d/x'],
    ['default', '..'],
    ['default', '.'],
    ['default', 'a/b'],
    ['default', 'Profile'],
    ['default', ''],
    ['..', 'p'],
    ['a.b', 'p'],
    ['ns/..', 'p'],
    ['default', 'p\0'],
    ['default', 'x'.repeat(254)],
  ]) {
    t.throws(() => profileLocation(ns!, name!), { code: 'ERR_INVALID_PROFILE' }, `${ns}/${name}`);
  }
});

t.test('file content is stable', async (t) => {
  t.equal(renderProfileFile({ defaultAction: 'SCMP_ACT_LOG' }), '{\n  "defaultAction": "SCMP_ACT_LOG"\n}\n');
});
