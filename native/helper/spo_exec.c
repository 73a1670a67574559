// SPDX-License-Identifier: Apache-2.0
/*
 * spo-exec: the last step before a recorded or confined command starts.
 *
 *   spo-exec [--new-mntns] [--sync-fd N] [--filter-fd N --filter-flags F] [--] PROGRAM [ARG...]
 *
 * --new-mntns   run PROGRAM in a fresh mount namespace (the recorder's key), die with the parent
 * --sync-fd N   write 'R' once the namespace exists, then wait for 'G' before exec; anything
 *               else (the recorder died) exits 125 without running PROGRAM
 * --filter-fd N read a struct sock_filter[] to EOF and install it (seccomp(2) with flags F)
 *
 * Everything that is not PROGRAM's own work happens before the sync point or the filter, so
 * a recording holds PROGRAM's syscalls from its execve on, and the filter sees the same.
 * Exit codes: 125 set-up failed, 126 PROGRAM not executable, 127 PROGRAM not found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXIT_SETUP 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

static void die(int code, const char *what)
{
	fprintf(stderr, "spo-exec: %s: %s\n", what, strerror(errno));
	exit(code);
}

/* PATH lookup before the sync point, so the recording holds a single execve */
static const char *resolve(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/'))
		return prog;
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		int n = snprintf(buf, len, "%.*s/%s", (int)(end - path), path, prog);

		if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
			return buf;
		path = *end ? end + 1 : end;
	}
	errno = ENOENT;
	return NULL;
}

static size_t read_all(int fd, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	for (;;) {
		ssize_t n;

		if (!buf)
			die(EXIT_SETUP, "read filter");
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, -1);
			continue;
		}
		if (n < 0)
			die(EXIT_SETUP, "read filter");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	*out = buf;
	return len;
}

static char wait_byte(int fd)
{
	char c = 0;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n == 1)
			return c;
		if (n == 0)
			return 0;
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, -1);
		} else if (errno != EINTR) {
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	int new_mntns = 0, sync_fd = -1, filter_fd = -1, i;
	unsigned int filter_flags = 0;
	char path_buf[4096];
	const char *path;
	struct sock_fprog prog = { 0 };
	char *filter = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--new-mntns")) {
			new_mntns = 1;
		} else if (!strcmp(argv[i], "--sync-fd") && i + 1 < argc) {
			sync_fd = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--filter-fd") && i + 1 < argc) {
			filter_fd = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--filter-flags") && i + 1 < argc) {
			filter_flags = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: spo-exec [--new-mntns] [--sync-fd N] [--filter-fd N "
				"--filter-flags F] [--] PROGRAM [ARG...]\n");
		return EXIT_SETUP;
	}

	path = resolve(argv[i], path_buf, sizeof(path_buf));
	if (!path) {
		fprintf(stderr, "spo-exec: %s: command not found\n", argv[i]);
		return EXIT_NOTFOUND;
	}

	if (new_mntns) {
		/* a recording that is killed takes its command with it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
			die(EXIT_SETUP, "parent death signal");
		if (unshare(CLONE_NEWNS))
			die(EXIT_SETUP, "unshare mount namespace");
		/* keep the command's mounts (and unmounts) from propagating back to the host */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			die(EXIT_SETUP, "make mounts private");
	}

	if (filter_fd >= 0) {
		size_t len = read_all(filter_fd, &filter);

		close(filter_fd);
		if (len == 0 || len % sizeof(struct sock_filter)) {
			fprintf(stderr, "spo-exec: filter of %zu bytes is not a BPF program\n", len);
			return EXIT_SETUP;
		}
		prog.len = (unsigned short)(len / sizeof(struct sock_filter));
		prog.filter = (struct sock_filter *)filter;
	}

	if (sync_fd >= 0) {
		fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
		if (write(sync_fd, "R", 1) != 1)
			die(EXIT_SETUP, "signal ready");
		if (wait_byte(sync_fd) != 'G') {
			fprintf(stderr, "spo-exec: recorder went away before the command started\n");
			return EXIT_SETUP;
		}
	}

	if (filter) {
		/* root (CAP_SYS_ADMIN) may skip no_new_privs, as runc does; everyone else needs it */
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter_flags, &prog)) {
			if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter_flags, &prog))
				die(EXIT_SETUP, "install seccomp filter");
		}
	}

	execv(path, argv + i);
	die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, path);
	return EXIT_NOEXEC;
}
