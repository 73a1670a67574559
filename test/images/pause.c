/* The pod sandbox's PID 1: holds the namespaces open, reaps orphans, and exits
 * promptly on SIGINT/SIGTERM so sandboxes stop without waiting for a timeout. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main(void) {
	struct sigaction term = {.sa_handler = on_term};
	struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
	if (getpid() != 1) {
		/* outside a PID namespace nothing would be reaped: say so, keep working */
		static const char msg[] = "pause: warning: not PID 1\n";
		(void)!write(2, msg, sizeof msg - 1);
	}
	if (sigaction(SIGINT, &term, NULL) || sigaction(SIGTERM, &term, NULL) ||
	    sigaction(SIGCHLD, &child, NULL))
		return 1;
	for (;;) pause();
}
