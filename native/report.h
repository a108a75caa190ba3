/*
 * report.h: step ids and the child's failure record.
 *
 * Parent and child. A child that fails between clone(2) and execve(2) writes
 * one `struct step_report` (three int32, host byte order) to the report pipe
 * and _exit(127)s. The parent reads the pipe to EOF: zero bytes means execve
 * happened (the pipe is close-on-exec). Step ids cross to TypeScript by name
 * (see addon.cc), so TS never hard-codes a number.
 */
#ifndef POD_LAUNCH_REPORT_H
#define POD_LAUNCH_REPORT_H

#include <stdint.h>

/* X-macro: id, name. Keep child steps in the order the child runs them
 * (child.seccomp runs before child.capbset when no_new_privs is not set). */
#define STEP_LIST(X)                                                                               \
  X(STEP_SPAWN_PLAN, "spawn.plan")                                                                 \
  X(STEP_SPAWN_PIPE, "spawn.pipe")                                                                 \
  X(STEP_SPAWN_PIDNS, "spawn.pidns")                                                               \
  X(STEP_SPAWN_CLONE, "spawn.clone")                                                               \
  X(STEP_CHILD_PDEATHSIG, "child.pdeathsig")                                                       \
  X(STEP_CHILD_CGROUP, "child.cgroup")                                                             \
  X(STEP_CHILD_SETNS, "child.setns")                                                               \
  X(STEP_CHILD_ROOT, "child.root")                                                                 \
  X(STEP_CHILD_UNSHARE, "child.unshare")                                                           \
  X(STEP_CHILD_SETSID, "child.setsid")                                                             \
  X(STEP_CHILD_HOSTNAME, "child.hostname")                                                         \
  X(STEP_CHILD_LOOPBACK, "child.loopback")                                                         \
  X(STEP_CHILD_MOUNT, "child.mount")                                                               \
  X(STEP_CHILD_CHDIR, "child.chdir")                                                               \
  X(STEP_CHILD_RLIMIT, "child.rlimit")                                                             \
  X(STEP_CHILD_TTY, "child.tty")                                                                   \
  X(STEP_CHILD_CAPBSET, "child.capbset")                                                           \
  X(STEP_CHILD_SETGROUPS, "child.setgroups")                                                       \
  X(STEP_CHILD_SETGID, "child.setgid")                                                             \
  X(STEP_CHILD_SETUID, "child.setuid")                                                             \
  X(STEP_CHILD_CAPSET, "child.capset")                                                             \
  X(STEP_CHILD_NNP, "child.no-new-privs")                                                          \
  X(STEP_CHILD_SIGNALS, "child.signals")                                                           \
  X(STEP_CHILD_STDIO, "child.stdio")                                                               \
  X(STEP_CHILD_SECCOMP, "child.seccomp")                                                           \
  X(STEP_CHILD_EXEC, "child.exec")

enum step_id {
#define STEP_ENUM(id, name) id,
  STEP_LIST(STEP_ENUM)
#undef STEP_ENUM
      STEP_COUNT
};

struct step_report {
  int32_t step;
  int32_t err; /* errno at the failing call */
  int32_t arg; /* index into the plan list the step works on, or -1 */
};

/* Name of a step id, or NULL when out of range. */
const char *report_step_name(int step);

/* child: async-signal-safe only. Writes the record, then _exit(127). */
void report_fail(int report_fd, int step, int arg) __attribute__((noreturn));

#endif
