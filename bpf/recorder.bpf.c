// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Syscall recorder: one bitmap of syscall numbers per mount namespace, written from the
 * raw_syscalls:sys_enter hook. Nothing goes to userspace per syscall; userspace drains
 * mntns_syscalls with lookup-and-delete and unions what it gets.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "recorder.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EEXIST 17
#define PR_GET_PDEATHSIG 2
#define COMM_LEN 16

#if defined(__TARGET_ARCH_x86)
#define NR_PRCTL 157
#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h, what in_ia32_syscall() tests */
#elif defined(__TARGET_ARCH_arm64)
#define NR_PRCTL 167
#define TIF_32BIT 22 /* arch/arm64/include/asm/thread_info.h */
#else
#error "unsupported architecture"
#endif

/* set by userspace before load */
const volatile __u32 host_mntns = 0;
/* true: record only namespaces listed in filter_mntns; false: record all but those */
const volatile bool listed_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RECORDER_DEFAULT_MAX_MNTNS);
	__type(key, __u32);
	__type(value, __u8);
} filter_mntns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RECORDER_DEFAULT_MAX_MNTNS);
	__type(key, __u32);
	__type(value, struct recorder_entry);
} mntns_syscalls SEC(".maps");

/* builds a fresh entry off the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recorder_entry);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECORDER_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} recorder_stats SEC(".maps");

/* before ns_common.ns_id (6.x), the mount namespace's own sequence number identified it */
struct mnt_namespace___seq {
	__u64 seq;
} __attribute__((preserve_access_index));

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&recorder_stats, &slot);

	if (n)
		*n += 1; /* per-CPU slot: no atomic needed */
}

/*
 * runc's init calls prctl(PR_GET_PDEATHSIG) early, in the container's mount namespace,
 * before it sets up the workload (runc libcontainer/standard_init_linux.go). Restarting
 * the bitmap there drops the runtime's set-up syscalls but keeps everything runc does
 * after installing the profile, so the result still runs under itself.
 */
static __always_inline bool is_runtime_start(struct pt_regs *regs)
{
	static const char runc_init[] = "runc:[2:INIT]";
	char comm[COMM_LEN];

	if (PT_REGS_PARM1_CORE_SYSCALL(regs) != PR_GET_PDEATHSIG)
		return false;
	if (bpf_get_current_comm(comm, sizeof(comm)))
		return false;
	for (int i = 0; i < sizeof(runc_init); i++) {
		if (comm[i] != runc_init[i])
			return false;
	}
	return true;
}

/* replace (or create) the entry with one that holds just this syscall */
static __always_inline long restart(__u32 inum, __u64 ns_id, __u32 word, __u64 bit, __u64 flags,
				    __u64 update_flags)
{
	__u32 zero = 0;
	struct recorder_entry *fresh = bpf_map_lookup_elem(&scratch, &zero);

	if (!fresh)
		return 0;
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->ns_id = ns_id;
	fresh->flags = flags;
	if (word < 2 * RECORDER_SYSCALL_WORDS)
		fresh->bits[word] = bit;
	return bpf_map_update_elem(&mntns_syscalls, &inum, fresh, update_flags);
}

static __always_inline int record(__u32 inum, __u64 ns_id, bool compat, long nr,
				  struct pt_regs *regs)
{
	struct recorder_entry *e;
	__u64 flags = 0, bit = 0;
	__u32 word = 0;
	long err;

	if (listed_only) {
		if (!bpf_map_lookup_elem(&filter_mntns, &inum))
			return 0;
	} else if (bpf_map_lookup_elem(&filter_mntns, &inum)) {
		return 0;
	}

	/* unsigned: negative numbers (syscall(-1)) are out of range too */
	if ((unsigned long)nr < RECORDER_MAX_SYSCALLS) {
		word = ((__u32)nr >> 6) + (compat ? RECORDER_SYSCALL_WORDS : 0);
		bit = 1ULL << (nr & 63);
	} else {
		flags = RECORDER_FLAG_OUT_OF_RANGE;
	}

	e = bpf_map_lookup_elem(&mntns_syscalls, &inum);
	if (!e) {
		err = restart(inum, ns_id, word, bit, flags, BPF_NOEXIST);
		if (!err)
			return 0;
		if (err != -EEXIST) {
			count(RECORDER_STAT_MAP_FULL);
			return 0;
		}
		/* another CPU created it first */
		e = bpf_map_lookup_elem(&mntns_syscalls, &inum);
		if (!e)
			return 0;
	}

	/*
	 * A different ns_id under the same inode number means the namespace that made this
	 * entry is gone (userspace pins the ones it records, so theirs cannot be reused) and
	 * the number was handed out again: its syscalls must not be credited to the new one.
	 */
	if (e->ns_id != ns_id || (nr == NR_PRCTL && !compat && is_runtime_start(regs))) {
		restart(inum, ns_id, word, bit, flags, BPF_ANY);
		count(RECORDER_STAT_RESETS);
		return 0;
	}

	if (flags) {
		if (!(e->flags & flags))
			__sync_fetch_and_or(&e->flags, flags);
		return 0;
	}
	if (word >= 2 * RECORDER_SYSCALL_WORDS)
		return 0;
	/* test first: once a syscall is known, the hot path only reads the cache line */
	if (!(e->bits[word] & bit))
		__sync_fetch_and_or(&e->bits[word], bit);
	return 0;
}

/* BTF-enabled raw tracepoint: cheapest hook, direct (CO-RE relocated) loads from the task */
SEC("tp_btf/sys_enter")
int BPF_PROG(spo_rec_btf, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mnt_namespace *mnt = task->nsproxy->mnt_ns;
	__u32 inum = mnt->ns.inum;
	__u64 ns_id = 0;
	bool compat;

	if (inum == host_mntns)
		return 0;
	if (bpf_core_field_exists(mnt->ns.ns_id))
		ns_id = mnt->ns.ns_id;
	else if (bpf_core_field_exists(struct mnt_namespace___seq, seq))
		ns_id = ((struct mnt_namespace___seq *)mnt)->seq;
#if defined(__TARGET_ARCH_x86)
	compat = task->thread_info.status & TS_COMPAT;
#else
	compat = task->thread_info.flags & (1UL << TIF_32BIT);
#endif
	return record(inum, ns_id, compat, id, regs);
}

/* plain raw tracepoint for kernels without their own BTF (userspace gives SPO_BTF_FILE) */
SEC("raw_tp/sys_enter")
int BPF_PROG(spo_rec_raw, struct pt_regs *regs, long id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mnt_namespace *mnt = BPF_CORE_READ(task, nsproxy, mnt_ns);
	__u32 inum = BPF_CORE_READ(mnt, ns.inum);
	__u64 ns_id = 0;
	bool compat;

	if (inum == host_mntns)
		return 0;
	if (bpf_core_field_exists(mnt->ns.ns_id))
		ns_id = BPF_CORE_READ(mnt, ns.ns_id);
	else if (bpf_core_field_exists(struct mnt_namespace___seq, seq))
		ns_id = BPF_CORE_READ((struct mnt_namespace___seq *)mnt, seq);
#if defined(__TARGET_ARCH_x86)
	compat = BPF_CORE_READ(task, thread_info.status) & TS_COMPAT;
#else
	compat = BPF_CORE_READ(task, thread_info.flags) & (1UL << TIF_32BIT);
#endif
	return record(inum, ns_id, compat, id, regs);
}

/* does nothing on the same hook: the floor the benchmark measures the recorder against */
SEC("tp_btf/sys_enter")
int BPF_PROG(spo_rec_floor)
{
	return 0;
}
