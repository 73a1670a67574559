import t from 'tap';
import { BPF_FS_MAGIC, bpffsProblem, DEFAULT_PIN_DIR, parsePinDir } from '../../../src/recorder/pin-dir.js';

t.test('parsePinDir: default, none, and what it refuses', async (t) => {
  t.equal(parsePinDir(undefined, '--bpf-pin-dir'), DEFAULT_PIN_DIR);
  t.equal(parsePinDir('', 'SPO_BPF_PIN_DIR'), DEFAULT_PIN_DIR);
  t.equal(parsePinDir('none', '--bpf-pin-dir'), undefined, 'none: no pinning');
  t.equal(parsePinDir('/sys/fs/bpf/spo', '--bpf-pin-dir'), '/sys/fs/bpf/spo');
  for (const bad of ['sys/fs/bpf/spo', '/sys/fs/bpf/../spo', '/sys/fs/bpf/spo/', '/sys//fs/bpf', './x']) {
    t.throws(
      () => parsePinDir(bad, '--bpf-pin-dir'),
      { code: 'ERR_USAGE', message: /absolute, normalised/ },
      bad,
    );
  }
  for (const shared of ['/', '/sys/fs/bpf']) {
    t.throws(
      () => parsePinDir(shared, 'SPO_BPF_PIN_DIR'),
      { code: 'ERR_USAGE', message: /SPO_BPF_PIN_DIR must be a directory of the recorder's own/ },
      shared,
    );
  }
});

t.test('bpffsProblem names the cause and both fixes', async (t) => {
  t.equal(bpffsProblem('/sys/fs/bpf/spo', '/sys/fs/bpf', BPF_FS_MAGIC), undefined);
  const sysfs = 0x62656572;
  const msg = bpffsProblem('/sys/fs/bpf/spo', '/sys/fs/bpf', sysfs) ?? '';
  t.match(msg, /^\/sys\/fs\/bpf is not a bpf filesystem \(statfs type 0x62656572\)/);
  t.match(msg, /mount -t bpf bpf \/sys\/fs\/bpf/);
  t.match(msg, /hostPath/);
  t.match(msg, /--bpf-pin-dir none/);
});
