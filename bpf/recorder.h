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

#endif /* SPO_RECORDER_H */
