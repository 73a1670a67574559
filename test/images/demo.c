/* demo: performs chosen syscalls on request, so tests can make a container do
 * something specific (and nothing else) at a moment they choose.
 *
 *   demo STEP [ARGS...] [-- STEP [ARGS...]]...
 *
 * Steps run in order:
 *   mkdir PATH          mkdir(2) PATH (0755); an existing PATH is not an error
 *   rmdir PATH          rmdir(2)
 *   write PATH TEXT     create/truncate PATH and write TEXT
 *   read PATH           read PATH to stdout
 *   listen PORT         socket/bind/listen on 0.0.0.0:PORT (kept open)
 *   connect IP PORT     TCP connect to IP:PORT, then close
 *   uname               uname(2), print the release
 *   sleep SECONDS       nanosleep(2)
 *   wait-file PATH      block until PATH exists (polls every 50 ms)
 *   wait-signal         block until SIGUSR1
 *   echo TEXT           write TEXT and a newline to stdout
 *   pause               block until SIGTERM/SIGINT
 *   exit CODE           exit now with CODE
 *
 * SIGTERM/SIGINT always exit 0 at once: as PID 1 the program would otherwise
 * ignore them and every pod deletion would wait out its grace period.
 * Each step prints "demo: <step> ok" or "demo: <step>: <error>" to stderr;
 * a failed step exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1;

static void on_term(int sig) { (void)sig; _exit(0); }
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static int fail(const char *step) {
	fprintf(stderr, "demo: %s: %s\n", step, strerror(errno));
	return 1;
}

static int ok(const char *step) {
	fprintf(stderr, "demo: %s ok\n", step);
	return 0;
}

static void nap_ms(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* Runs one step; returns how many argv entries it consumed, or -1 on failure. */
static int step(char **av, int ac) {
	const char *s = av[0];
#define NEED(n)                                                            \
	do {                                                                   \
		if (ac < (n) + 1) {                                                \
			fprintf(stderr, "demo: %s needs %d argument(s)\n", s, (n));    \
			return -1;                                                     \
		}                                                                  \
	} while (0)
	if (!strcmp(s, "mkdir")) {
		NEED(1);
		if (mkdir(av[1], 0755) && errno != EEXIST) return fail(s), -1;
		return ok(s), 2;
	}
	if (!strcmp(s, "rmdir")) {
		NEED(1);
		if (rmdir(av[1])) return fail(s), -1;
		return ok(s), 2;
	}
	if (!strcmp(s, "write")) {
		NEED(2);
		int fd = open(av[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) return fail(s), -1;
		size_t n = strlen(av[2]);
		if (write(fd, av[2], n) != (ssize_t)n) return fail(s), -1;
		close(fd);
		return ok(s), 3;
	}
	if (!strcmp(s, "read")) {
		NEED(1);
		char buf[4096];
		ssize_t n;
		int fd = open(av[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) return fail(s), -1;
		while ((n = read(fd, buf, sizeof buf)) > 0) (void)!write(1, buf, (size_t)n);
		close(fd);
		if (n < 0) return fail(s), -1;
		return ok(s), 2;
	}
	if (!strcmp(s, "listen")) {
		NEED(1);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(av[1]))};
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) return fail(s), -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16)) return fail(s), -1;
		return ok(s), 2; /* fd stays open: the port is held until exit */
	}
	if (!strcmp(s, "connect")) {
		NEED(2);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(av[2]))};
		if (inet_pton(AF_INET, av[1], &a.sin_addr) != 1) {
			fprintf(stderr, "demo: connect: bad IPv4 address %s\n", av[1]);
			return -1;
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return fail(s), -1;
		close(fd);
		return ok(s), 3;
	}
	if (!strcmp(s, "uname")) {
		struct utsname u;
		if (uname(&u)) return fail(s), -1;
		printf("%s\n", u.release);
		fflush(stdout);
		return ok(s), 1;
	}
	if (!strcmp(s, "sleep")) {
		NEED(1);
		nap_ms(atol(av[1]) * 1000L);
		return ok(s), 2;
	}
	if (!strcmp(s, "wait-file")) {
		NEED(1);
		struct stat st;
		while (stat(av[1], &st)) nap_ms(50);
		return ok(s), 2;
	}
	if (!strcmp(s, "wait-signal")) {
		sigset_t none;
		sigemptyset(&none);
		while (!got_usr1) sigsuspend(&none);
		got_usr1 = 0;
		return ok(s), 1;
	}
	if (!strcmp(s, "echo")) {
		NEED(1);
		printf("%s\n", av[1]);
		fflush(stdout);
		return 2;
	}
	if (!strcmp(s, "pause")) {
		for (;;) pause();
	}
	if (!strcmp(s, "exit")) {
		NEED(1);
		exit(atoi(av[1]));
	}
	fprintf(stderr, "demo: unknown step %s\n", s);
	return -1;
#undef NEED
}

int main(int argc, char **argv) {
	struct sigaction term = {.sa_handler = on_term};
	struct sigaction usr1 = {.sa_handler = on_usr1};
	sigaction(SIGTERM, &term, NULL);
	sigaction(SIGINT, &term, NULL);
	sigaction(SIGUSR1, &usr1, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: demo STEP [ARGS...] [-- STEP [ARGS...]]...\n");
		return 2;
	}
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "--")) {
			i++;
			continue;
		}
		int n = step(argv + i, argc - i);
		if (n < 0) return 1;
		i += n;
	}
	return 0;
}
