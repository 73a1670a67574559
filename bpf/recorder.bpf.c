// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Syscall recorder: one bitmap of syscall numbers per mount namespace, written from the
 * raw_syscalls:sys_enter hook. Nothing goes to userspace per syscall: userspace drains the
 * bitmaps and unions what it gets.
 *
 * Two places hold bitmaps. recorder_slots, a small direct-mapped array indexed by a hash of the
 * namespace's inode number, is the hot path: an array lookup the verifier inlines, one compare
 * of the owner, one bit test, all in kmalloc'ed memory (recorder.h says why that matters), done
 * inline (on_sys_enter) before anything else is set up; the rest is a subprogram (record).
 * mntns_syscalls, a hash map keyed by inode number, takes the namespaces whose slot another one
 * holds, compat tasks, numbers past the slot's bitmap, and kernels without a namespace id.
 * Userspace drains the slots by running spo_rec_drain (BPF_PROG_TEST_RUN), which clears each word
 * with an atomic exchange, so a bit set meanwhile is taken now or left for the next drain; the
 * hash map with lookup-and-delete. It drains the hash map first: see record_slot.
 *
 * Whose syscall it is comes from recorder_cpu, each CPU's last task's namespace, whenever that is surely
 * right (spo_rec_btf says when): a task reads its own only when it was not the last on the CPU to make a
 * syscall, or when a task exited or moved, or a slot changed hands, since. The entry also says once the
 * namespace was seen owning its slot, so later syscalls skip the owner check.
 *
 * The filter (filter_mntns) is read only when a namespace gets its slot or entry, not per
 * syscall: userspace removes a namespace's slot and entry after filtering it out (addon
 * Exclude, and Forget followed by a drain).
 *
 * Why two namespaces' syscalls never mix in a slot: the program writes into a slot only after
 * reading its owner equal to its own namespace's ns_id, which the kernel never hands to another
 * namespace instance (a 64-bit sequence, unlike the inode number). Only userspace takes a slot
 * from its owner: it first sets RECORDER_SLOT_CLOSED in the owner and bumps the cache's epoch (no
 * program matches it, or trusts an earlier match, from then on), then waits for an RCU grace period
 * (membarrier MEMBARRIER_CMD_GLOBAL), which every program run that read the old owner or epoch (they
 * run under rcu_read_lock) has finished by; only then
 * are the last bits taken, the slot zeroed and its owner set to 0, after which a new namespace
 * can claim it with a compare-and-swap from 0.
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
#define NR_UNSHARE 272
#define NR_SETNS 308
#define NR_UNSHARE_COMPAT 310 /* the 32-bit table's */
#define NR_SETNS_COMPAT 346
#define X32_SYSCALL_BIT 0x40000000
#define USER_CS 0x33 /* __USER_CS: the 64-bit user code segment */
#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h, what in_ia32_syscall() tests */
#elif defined(__TARGET_ARCH_arm64)
#define NR_PRCTL 167
#define NR_UNSHARE 97
#define NR_SETNS 268
#define NR_UNSHARE_COMPAT 337
#define NR_SETNS_COMPAT 375
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RECORDER_SLOTS);
	__type(key, __u32);
	__type(value, struct recorder_slot);
} recorder_slots SEC(".maps");

/* spo_rec_drain's output; never touched per syscall, so it may be vmalloc'ed and mmapable */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, RECORDER_SLOTS);
	__type(key, __u32);
	__type(value, struct recorder_drained);
} recorder_drained SEC(".maps");

/*
 * See struct recorder_cpu in recorder.h, and spo_rec_btf. A plain array indexed by CPU number, sized to the
 * possible CPUs by the addon: a per-CPU array's values come from the per-CPU allocator's vmalloc'ed chunks,
 * which cost a TLB miss per syscall on a VM (as recorder_slots would, see recorder.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recorder_cpu);
} recorder_cpu SEC(".maps");

/*
 * Bumped whenever a task exits or may move to another namespace, or a slot changes hands: a recorder_cpu entry
 * made before the last bump is not used (spo_rec_btf). A map of its own, not .bss: that is mmapable, so
 * vmalloc'ed. Its name and entry_scratch's keep older builds from adopting these programs: see entry_scratch.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cache_epoch SEC(".maps");

/*
 * Builds a fresh entry off the 512-byte stack. Renamed from scratch, as the epoch map from recorder_epoch, when
 * cache entries began to trust a slot's owner (owned): builds from before adopt pinned links whenever every map
 * of theirs is pinned and matches, and their spo_rec_drain does not bump the epoch when closing a slot, so they
 * must never adopt these programs. Every one of them pinned a map named scratch; finding none, they drop the links.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recorder_entry);
} entry_scratch SEC(".maps");

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

static __always_inline __u64 *epoch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cache_epoch, &zero);
}

/* every CPU's cached namespace is stale from now on (a task may exit or move: see spo_rec_btf) */
static __always_inline void forget_all(__u64 *epoch)
{
	if (epoch)
		__sync_fetch_and_add(epoch, 1);
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
	struct recorder_entry *fresh = bpf_map_lookup_elem(&entry_scratch, &zero);

	if (!fresh)
		return 0;
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->ns_id = ns_id;
	fresh->flags = flags;
	if (word < 2 * RECORDER_SYSCALL_WORDS)
		fresh->bits[word] = bit;
	return bpf_map_update_elem(&mntns_syscalls, &inum, fresh, update_flags);
}

/* whether the filter lets this namespace be recorded: consulted only when its slot or entry is made */
static __always_inline bool wanted(__u32 inum)
{
	bool listed = bpf_map_lookup_elem(&filter_mntns, &inum) != NULL;

	return listed == listed_only;
}

static __always_inline int set_bit(__u64 *entry_flags, __u64 *bits, __u32 word, __u64 bit, __u64 flags)
{
	if (flags) {
		if (!(*entry_flags & flags))
			__sync_fetch_and_or(entry_flags, flags);
		return 0;
	}
	if (word >= 2 * RECORDER_SYSCALL_WORDS)
		return 0;
	/* test first: once a syscall is known, the hot path only reads the cache line */
	if (!(bits[word] & bit))
		__sync_fetch_and_or(&bits[word], bit);
	return 0;
}

static __always_inline int record_slot(struct recorder_slot *s, __u32 word, __u64 bit, __u64 flags,
				       bool runtime_start)
{
	if (runtime_start) {
		/*
		 * Clear, then mark with an atomic (a full barrier), then record. spo_rec_drain exchanges
		 * the bits before the flags, so a drain that misses the mark has taken no bit set after
		 * it: nothing the workload did is in a drain the mark later discards. The namespace's
		 * compat syscalls go to the hash map, which userspace drains before the slots, so one set
		 * after the mark is drained with the mark or later, never before it.
		 */
		for (int i = 0; i < RECORDER_SLOT_WORDS; i++)
			s->bits[i] = 0;
		__sync_fetch_and_or(&s->flags, RECORDER_FLAG_RUNTIME_START);
		count(RECORDER_STAT_RESETS);
	}
	if (flags) {
		if (!(s->flags & flags))
			__sync_fetch_and_or(&s->flags, flags);
		return 0;
	}
	if (word >= RECORDER_SLOT_WORDS)
		return 0;
	if (!(s->bits[word] & bit))
		__sync_fetch_and_or(&s->bits[word], bit);
	return 0;
}

static __always_inline bool slot_empty(struct recorder_slot *s)
{
	__u64 any = s->flags;

	for (int i = 0; i < RECORDER_SLOT_WORDS; i++)
		any |= s->bits[i];
	return !any;
}

/*
 * Everything but the hot path (see on_sys_enter). A subprogram, not inlined: its registers and
 * stack would otherwise be set up on every run, spills included, before the hot path's first branch
 * (bench/README.md, session 4).
 */
static __noinline int record(__u32 inum, __u64 ns_id, bool compat, long nr, struct pt_regs *regs)
{
	struct recorder_slot *s = NULL;
	struct recorder_entry *e;
	__u64 flags = 0, bit = 0, owner;
	__u32 word = 0, slot;
	bool start;
	long err;

	/* unsigned: negative numbers (syscall(-1)) are out of range too */
	if ((unsigned long)nr < RECORDER_MAX_SYSCALLS) {
		word = ((__u32)nr >> 6) + (compat ? RECORDER_SYSCALL_WORDS : 0);
		bit = 1ULL << (nr & 63);
	} else {
		flags = RECORDER_FLAG_OUT_OF_RANGE;
	}
	start = nr == NR_PRCTL && !compat && is_runtime_start(regs);

	/* without an id a slot could not tell namespace instances apart: those use the hash map */
	if (ns_id && !compat && (unsigned long)nr < RECORDER_SLOT_SYSCALLS) {
		slot = recorder_slot_of(inum);
		s = bpf_map_lookup_elem(&recorder_slots, &slot);
		if (!s)
			return 0;
		owner = s->owner;
		if (owner == ns_id)
			return record_slot(s, word, bit, flags, start);
		/* another live namespace's, or being retired: see below for a dead one's */
		if (owner && ((owner & RECORDER_SLOT_CLOSED) || s->inum != inum))
			s = NULL;
	}

	e = bpf_map_lookup_elem(&mntns_syscalls, &inum);
	if (!e) {
		if (!wanted(inum))
			return 0;
		/*
		 * Claim the free slot only on a miss here: a namespace with an entry stays in the hash map until
		 * a drain takes it, so it changes place only at drains (the runtime-start mark relies on that).
		 */
		/*
		 * A slot owned by another id under this very inode number belongs to a namespace that
		 * is gone (inode numbers are unique among live namespaces, and a program run holds its
		 * task's namespace), so no run writes into it any more: once userspace has taken
		 * what it held, it is taken over like a free one.
		 */
		if (s && owner && !slot_empty(s))
			s = NULL;
		if (s) {
			__u64 was = __sync_val_compare_and_swap(&s->owner, owner, ns_id);

			if (was == owner && !owner)
				s->inum = inum;
			/* a dead namespace's slot changes hands: no cached entry may still trust its owner */
			if (was == owner && owner)
				forget_all(epoch());
			if (was == owner || was == ns_id)
				return record_slot(s, word, bit, flags, start);
		}
		if (start)
			flags |= RECORDER_FLAG_RUNTIME_START;
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
	if (e->ns_id != ns_id || start) {
		if (e->ns_id != ns_id && !wanted(inum))
			return 0;
		if (start)
			flags |= RECORDER_FLAG_RUNTIME_START;
		restart(inum, ns_id, word, bit, flags, BPF_ANY);
		count(RECORDER_STAT_RESETS);
		return 0;
	}
	return set_bit(&e->flags, e->bits, word, bit, flags);
}

static __always_inline void set_slot_bit(struct recorder_slot *s, long nr)
{
	__u64 *word = &s->bits[((__u32)nr >> 6) & (RECORDER_SLOT_WORDS - 1)];
	__u64 bit = 1ULL << (nr & 63);

	if (!(*word & bit))
		__sync_fetch_and_or(word, bit);
}

/*
 * The hot path: a native syscall of a namespace that owns its slot, the bit most often set already.
 * It does what record does in that case (record_slot without a runtime start), with nothing else
 * live: the prctl that may mark the runtime's start, compat tasks, ids of 0, numbers past the slot
 * and every miss go to record.
 */
/* mine: the CPU's cache entry when it holds this task (spo_rec_btf), to note that the namespace owns its slot */
static __always_inline int on_sys_enter(__u32 inum, __u32 slot, __u64 ns_id, bool compat, long nr,
					struct pt_regs *regs, struct recorder_cpu *mine)
{
	if (ns_id && !compat && (unsigned long)nr < RECORDER_SLOT_SYSCALLS && nr != NR_PRCTL) {
		struct recorder_slot *s = bpf_map_lookup_elem(&recorder_slots, &slot);

		if (s && s->owner == ns_id) {
			set_slot_bit(s, nr);
			if (mine)
				mine->owned = 1;
			return 0;
		}
	}
	return record(inum, ns_id, compat, nr, regs);
}

/* everything a slot holds into *out, each word cleared with an atomic exchange: bits first, flags last */
static __always_inline void take(struct recorder_slot *s, struct recorder_drained *out, __u32 slot,
				 __u32 inum, __u64 ns_id)
{
	out->slot = slot;
	out->inum = inum;
	out->ns_id = ns_id;
	for (int i = 0; i < RECORDER_SLOT_WORDS; i++)
		out->bits[i] = __sync_lock_test_and_set(&s->bits[i], 0);
	out->flags = __sync_lock_test_and_set(&s->flags, 0);
}

/*
 * Run by userspace through BPF_PROG_TEST_RUN, never attached: the slots live in a map userspace
 * cannot map, so their atomic read-and-clear happens here, one slot per run (a loop over all of
 * them costs the verifier more than a million instructions; userspace finds the slots worth a run
 * from a batch read of recorder_slots). ctx args: operation, slot, argument (RECORDER_DRAIN_* in
 * recorder.h). Returns 1 when it took the slot's bits into recorder_drained[slot] (TAKE, FREE) or
 * closed the slot (CLOSE), else 0.
 */
SEC("raw_tp")
int spo_rec_drain(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 op = ctx->args[0], arg = ctx->args[2];
	__u32 slot = ctx->args[1];
	struct recorder_drained *out;
	struct recorder_slot *s;
	__u64 owner;

	s = bpf_map_lookup_elem(&recorder_slots, &slot);
	out = bpf_map_lookup_elem(&recorder_drained, &slot);
	if (!s || !out)
		return 0;
	owner = s->owner;
	if (op == RECORDER_DRAIN_CLOSE) {
		if (!arg || (arg & RECORDER_SLOT_CLOSED))
			return 0;
		if (__sync_val_compare_and_swap(&s->owner, arg, arg | RECORDER_SLOT_CLOSED) != arg)
			return 0;
		/* no CPU's cache may still say the namespace owns it (spo_rec_btf) */
		forget_all(epoch());
		return 1;
	}
	out->inum = 0;
	if (op == RECORDER_DRAIN_TAKE) {
		/* inum 0 only between a claim and the claimer's next store: the bits wait a drain */
		if (!owner || (owner & RECORDER_SLOT_CLOSED) || !s->inum)
			return 0;
		take(s, out, slot, s->inum, owner);
		/*
		 * Labelled with the owner read after the exchanges: a namespace taking the slot over
		 * from a gone one (record) does so only when it is empty, so what was just taken is
		 * the gone one's (nothing) if it still owns it, else the new owner's.
		 */
		out->ns_id = s->owner & ~RECORDER_SLOT_CLOSED;
		return 1;
	}
	/* FREE: a closed slot, after userspace's grace period */
	if (op != RECORDER_DRAIN_FREE || !(owner & RECORDER_SLOT_CLOSED))
		return 0;
	take(s, out, slot, s->inum, owner & ~RECORDER_SLOT_CLOSED);
	s->inum = 0;
	__sync_lock_test_and_set(&s->owner, 0);
	return 1;
}

/*
 * Whether this syscall surely came in through the 64-bit SYSCALL instruction, which leaves the user's
 * instruction pointer in rcx (the entry code saves both). A 32-bit task runs on another code segment,
 * and int $0x80 from 64-bit code (a compat syscall, TS_COMPAT set for it alone) leaves rcx as the
 * caller had it, equal to the return address only if the caller makes it so (and then it only misfiles
 * its own syscall in its own profile: a move made that way still bumps the epoch, see spo_rec_btf).
 * Compat is per syscall, not per task, and only the task knows it:
 * what is not surely native reads the task. With FRED the entry leaves rcx alone, so every syscall reads
 * the task there (correct, without the saving).
 */
static __always_inline bool surely_native(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->cs == USER_CS && regs->cx == regs->ip;
#else
	return false; /* not worked out for arm64's AArch32 tasks: the task is read every time */
#endif
}

/* unshare and setns move the calling task to another mount namespace */
static __always_inline bool may_move(long id)
{
#if defined(__TARGET_ARCH_x86)
	id &= ~X32_SYSCALL_BIT;
#endif
	return id == NR_UNSHARE || id == NR_SETNS;
}

static __always_inline bool may_move_compat(long id)
{
	return id == NR_UNSHARE_COMPAT || id == NR_SETNS_COMPAT;
}

static __always_inline __u64 ns_id_of(struct mnt_namespace *mnt)
{
	if (bpf_core_field_exists(mnt->ns.ns_id))
		return mnt->ns.ns_id;
	if (bpf_core_field_exists(struct mnt_namespace___seq, seq))
		return ((struct mnt_namespace___seq *)mnt)->seq;
	return 0;
}

/*
 * BTF-enabled raw tracepoint: the cheapest hook, direct (CO-RE relocated) loads from the task. Each CPU keeps
 * the namespace of the last task that entered a syscall on it, in recorder_cpu, so that task's next syscalls
 * there skip reading it: that read takes bpf_get_current_task_btf(), a real call the JIT does not inline,
 * which alone costs more than the rest of the program where every return goes through a mitigation thunk
 * (bench/README.md, sessions 6 and 7). Why a cached namespace is always the task's own: the entry names the
 * task by its pt_regs, which no other live task has, and is used only while cache_epoch is what it was
 * before the task was read. That is bumped by a task's own unshare or setns, the only ways it leaves its
 * namespace, before they take effect (the entries of every CPU go: it may have run on several), and by
 * spo_rec_exit when any task exits, before its stack, and so its pt_regs address, can go to a new task.
 * The addon attaches spo_rec_exit first and detaches it last, and empties the cache in between.
 * An entry's owned says a syscall since it was filled found the namespace owning its slot. A slot changes
 * hands only when userspace closes it or a namespace takes over a dead one's (record), and both bump the
 * epoch too, so while the entry is valid the slot is still its namespace's.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(spo_rec_btf, struct pt_regs *regs, long id)
{
	__u32 me = bpf_get_smp_processor_id();
	struct recorder_cpu *cpu = bpf_map_lookup_elem(&recorder_cpu, &me);
	__u64 *now = epoch();
	struct recorder_cpu *filled = NULL;
	struct task_struct *task;
	struct mnt_namespace *mnt;
	__u64 ns_id, cached;
	__u32 inum;
	bool compat;

	if (cpu && now && cpu->regs == (__u64)regs && cpu->epoch == *now && surely_native(regs)) {
		/*
		 * The 32-bit table's numbers too: int $0x80 from 64-bit code passes surely_native when its caller makes
		 * rcx its return address, and this cannot tell such a syscall from a native one (native 310 and 346,
		 * process_vm_readv and a number x86_64 leaves unused, cost a bump for nothing).
		 */
		if (may_move(id) || may_move_compat(id))
			forget_all(now);
		if (cpu->inum == host_mntns)
			return 0;
		/* the slot is the namespace's while the entry is valid: whoever hands a slot over bumps the epoch */
		if (cpu->owned && (unsigned long)id < RECORDER_SLOT_SYSCALLS && id != NR_PRCTL) {
			struct recorder_slot *s = bpf_map_lookup_elem(&recorder_slots, &cpu->slot);

			if (s) {
				set_slot_bit(s, id);
				return 0;
			}
		}
		return on_sys_enter(cpu->inum, cpu->slot, cpu->ns_id, false, id, regs, cpu);
	}
	/* before the task: a bump from here on leaves this entry stale, as it must */
	cached = now ? *now : 0;
	task = bpf_get_current_task_btf();
	mnt = task->nsproxy->mnt_ns;
	inum = mnt->ns.inum;
	ns_id = ns_id_of(mnt);
#if defined(__TARGET_ARCH_x86)
	compat = task->thread_info.status & TS_COMPAT;
#else
	compat = task->thread_info.flags & (1UL << TIF_32BIT);
#endif
	/*
	 * A move through any door, int $0x80 included, counts: the task's native syscalls may have entries. Else
	 * the entry is filled; not preemptible here (the syscall tracepoints run BPF with preemption off), so
	 * only this task writes it meanwhile.
	 */
	if (compat ? may_move_compat(id) : may_move(id)) {
		forget_all(now);
	} else if (cpu && !compat && surely_native(regs)) {
		cpu->epoch = cached;
		cpu->inum = inum;
		cpu->slot = recorder_slot_of(inum); /* off the hit path's chain of dependent loads */
		cpu->ns_id = ns_id;
		cpu->owned = 0;
		cpu->regs = (__u64)regs;
		filled = cpu;
	}
	if (inum == host_mntns)
		return 0;
	return on_sys_enter(inum, recorder_slot_of(inum), ns_id, compat, id, regs, filled);
}

/*
 * A task exiting (current, in do_exit): no syscall of it follows, and once it is gone its stack may go to a
 * new task, whose syscalls would enter with the same pt_regs. Loaded and attached with spo_rec_btf, attached
 * before it and detached after it, so no exit goes unseen while spo_rec_btf runs.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(spo_rec_exit)
{
	forget_all(epoch());
	return 0;
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
	return on_sys_enter(inum, recorder_slot_of(inum), ns_id, compat, id, regs, NULL);
}

/* does nothing on the same hook: the floor the benchmark measures the recorder against */
SEC("tp_btf/sys_enter")
int BPF_PROG(spo_rec_floor)
{
	return 0;
}

/*
 * Reads the current task's mount namespace and compares it, as the host path does, and nothing else: what a
 * program that reads the task per syscall pays before it can tell whose the syscall is. The benchmark reports
 * it beside the floor, so the part of the recorder's cost that the hot path's own code does not control is
 * measured in the same run (bench/README.md, session 6).
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(spo_rec_task)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->nsproxy->mnt_ns->ns.inum == host_mntns;
}
