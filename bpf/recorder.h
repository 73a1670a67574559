/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ABI shared by recorder.bpf.c and the addon in native/: change both together. */
#ifndef SPO_RECORDER_H
#define SPO_RECORDER_H

/* syscall numbers at or above this are not recorded (x86_64 and arm64 stop below 512) */
#define RECORDER_MAX_SYSCALLS 1024
#define RECORDER_SYSCALL_WORDS (RECORDER_MAX_SYSCALLS / 64)
#define RECORDER_DEFAULT_MAX_MNTNS 8192

/* entry flags */
#define RECORDER_FLAG_OUT_OF_RANGE 0x1 /* a syscall number >= RECORDER_MAX_SYSCALLS (e.g. x32) */
/* the entry was restarted at the runtime's start-up: userspace drops what it drained before for the namespace */
#define RECORDER_FLAG_RUNTIME_START 0x2

/*
 * recorder_slots: a direct-mapped table, slot = hash of the inode number, for native syscall numbers below
 * RECORDER_SLOT_SYSCALLS (x86_64 and arm64 stop below 512); collisions, compat tasks and larger numbers use
 * mntns_syscalls. Kept under 32 KiB with its header, so the kernel allocates it with kmalloc: on a VM a
 * vmalloc'ed map costs a TLB miss per syscall, which is most of the recorder's cost.
 */
#define RECORDER_SLOT_SYSCALLS 512
#define RECORDER_SLOT_WORDS (RECORDER_SLOT_SYSCALLS / 64)
#define RECORDER_SLOTS 320
/*
 * Set in recorder_slot.owner while userspace retires the slot: no program matches it any more (namespace
 * ids are a counter, far below this bit), and the id stays readable, should another process finish the job.
 */
#define RECORDER_SLOT_CLOSED (1ULL << 63)

/* spo_rec_drain's operation, ctx args[0]; args[1] is the slot */
#define RECORDER_DRAIN_TAKE 0
#define RECORDER_DRAIN_CLOSE 1 /* args[2]: the owner it is expected to have */
#define RECORDER_DRAIN_FREE 2

/* recorder_stats slots */
#define RECORDER_STAT_MAP_FULL 0 /* syscalls not recorded because mntns_syscalls was full */
#define RECORDER_STAT_RESETS 1 /* entries restarted: inode reuse or runtime start-up */
#define RECORDER_STAT_SLOTS 2

/*
 * One bitmap per mount namespace. bits[0..WORDS) holds native syscalls, bits[WORDS..2*WORDS)
 * the syscalls of compat (32-bit) tasks, whose numbers mean different syscalls.
 */
struct recorder_entry {
	__u64 ns_id; /* namespace instance: the inode number alone is reused once freed */
	__u64 flags;
	__u64 bits[2 * RECORDER_SYSCALL_WORDS];
};

/*
 * One slot of recorder_slots. owner: 0 free; the namespace's ns_id while claimed (by the program, with a
 * compare-and-swap); that id | RECORDER_SLOT_CLOSED while userspace retires it. Only programs touch it
 * (the map is not mmapable, see above): userspace drains it through spo_rec_drain.
 */
struct recorder_slot {
	__u64 owner;
	__u32 inum; /* written by the claimer right after the claim: 0 means not yet */
	__u32 pad;
	__u64 flags;
	__u64 bits[RECORDER_SLOT_WORDS];
};

/* what spo_rec_drain hands userspace, in recorder_drained (mmapable) at the slot's index */
struct recorder_drained {
	__u32 slot;
	__u32 inum;
	__u64 ns_id;
	__u64 flags;
	__u64 bits[RECORDER_SLOT_WORDS];
};

/*
 * recorder_cpu, one per CPU (indexed by CPU number): the mount namespace of the task that last entered a
 * syscall on the CPU, so the next syscalls of that task there skip reading it (a helper call, the most
 * expensive step on some machines). regs, the syscall's pt_regs (at the top of the task's kernel stack, so
 * unique among live tasks), says whose it is; 0 means nothing is cached. See spo_rec_btf for why it is right.
 */
struct recorder_cpu {
	__u64 regs;
	__u64 ns_id;
	__u32 inum;
	__u32 slot; /* recorder_slot_of(inum) */
	__u64 epoch; /* cache_epoch when the task was read */
	/*
	 * 1 once a syscall of this task found the namespace owning its slot: later ones go straight to the bit
	 * (spo_rec_btf). A slot leaves a live namespace only when userspace closes it, which bumps the epoch.
	 */
	__u32 owned;
	__u32 pad;
	__u64 line[3]; /* one cache line each: CPUs write only their own */
};

/* the namespace's slot; the same multiplicative hash in the program and the addon */
static inline __u32 recorder_slot_of(__u32 inum)
{
	return (__u32)(((__u64)(__u32)(inum * 2654435761u) * RECORDER_SLOTS) >> 32);
}

#endif /* SPO_RECORDER_H */
