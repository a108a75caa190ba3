/*
 * pause: holds a pod's shared namespaces alive (the sandbox).
 *
 * Sleeps in pause(2). As PID 1 of the pod's pid namespace (shareProcessNamespace)
 * it also reaps orphans, since they are reparented to it. SIGTERM or SIGINT
 * exit 0. As PID 1, the kernel delivers only signals it has a handler for
 * (pid_namespaces(7)), so both are handled explicitly.
 *
 * Distinct exit codes for its own setup failures, like Kubernetes' pause:
 *   2  sigaction(SIGINT/SIGTERM) failed
 *   3  sigaction(SIGCHLD) failed
 *   4  unexpected arguments
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

static void on_chld(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    static const char usage[] = "pause: takes no arguments\n";
    ssize_t n = write(2, usage, sizeof usage - 1);
    (void)n;
    return 4;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  if (sigaction(SIGINT, &sa, 0) < 0 || sigaction(SIGTERM, &sa, 0) < 0)
    return 2;
  if (getpid() == 1) {
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    if (sigaction(SIGCHLD, &sa, 0) < 0)
      return 3;
  }
  for (;;)
    pause();
}
