/*
 * spawn.h: clone a child that runs a flat plan and execs (parent + child).
 * The plan is built in TypeScript and converted in addon.cc; nothing here
 * allocates after clone(2).
 */
#ifndef POD_LAUNCH_SPAWN_H
#define POD_LAUNCH_SPAWN_H

#include <sys/types.h>

#define SPAWN_MAX_JOIN 8
#define SPAWN_MAX_CGROUP_TASKS 16
#define SPAWN_MAX_MOUNTS 1024

/* One step of the mount plan: a mount(2), or making its mountpoint. */
/* MOUNT_WRITE: write `source` to the existing file `target` (a sysctl under
 * /proc/sys, in the namespaces the child is in by then).
 * MOUNT_MASK: hide `target` as runc's maskPath does: /dev/null bound over a
 * file, an empty read-only tmpfs over a directory, nothing when it is missing. */
enum spawn_mount_kind {
  MOUNT_MOUNT,
  MOUNT_MKDIR,
  MOUNT_FILE,
  MOUNT_SYMLINK,
  MOUNT_PIVOT,
  MOUNT_WRITE,
  MOUNT_MASK
};

struct spawn_mount {
  int kind;           /* enum spawn_mount_kind */
  int optional;       /* a missing target (ENOENT) is skipped, as runc does for masked paths */
  unsigned mode;      /* mkdir/file */
  const char *source; /* may be NULL; the link text for MOUNT_SYMLINK */
  const char *target;
  const char *fstype;  /* may be NULL */
  unsigned long flags; /* MS_* (mount(2)) */
  const char *data;    /* may be NULL */
};

struct spawn_plan {
  const char *file;              /* argv[0] to exec; searched in search_path when it has no '/' */
  char *const *argv;             /* NULL-terminated */
  char *const *envp;             /* NULL-terminated */
  const char *search_path;       /* the container's PATH value, or NULL */
  const char *cwd;               /* NULL: stay */
  int join_fd[SPAWN_MAX_JOIN];   /* namespace fds, in join order */
  int join_flag[SPAWN_MAX_JOIN]; /* CLONE_NEW* of each */
  int join_count;
  /* -1, or a directory opened by the parent before the joins (an exec: the
   * container process's /proc/PID/root): after them, fchdir(2) to it and
   * chroot("."), as nsenter --root does. setns(mnt) puts us at the root of
   * the namespace's root mount, which is the container's root only when the
   * host's init moved its root onto / (switch_root), not when it chrooted. */
  int root_fd;
  int clone_flags;      /* CLONE_NEWPID only: a new pid ns must be made at clone */
  int unshare_flags;    /* CLONE_NEW* other than pid */
  int pidns_fd;         /* -1, or a pid ns for the child (parent joins pid_for_children) */
  const char *hostname; /* set after unshare when CLONE_NEWUTS is in unshare_flags */
  int loopback;         /* bring lo up (new net ns) */
  int new_session;      /* setsid(2): terminal signals reach the supervisor only */
  int die_with_parent;  /* PR_SET_PDEATHSIG SIGKILL: a crashed foreground run leaves nothing */
  const struct spawn_mount *mounts;
  int mount_count;
  int stdio[3]; /* fds to become 0, 1, 2 in the child (ignored with a tty) */
  /* -1, or our end of a unix socketpair: the child allocates a pseudo-terminal
   * in its own /dev (after the mounts, so from the container's devpts), sends
   * the master back over it (SCM_RIGHTS, as runc's console socket), and makes
   * the slave its stdin, stdout, stderr and controlling terminal. */
  int tty_socket;
  unsigned short tty_rows, tty_cols; /* initial window size; 0 0 = leave unset */
  int tty_console;                   /* bind the slave on /dev/console (not for an exec) */
  int legacy_clone;                  /* use clone(2) even when clone3(2) exists (tests) */
  /* Identity and privileges (capabilities(7), credentials(7)); set_identity 0 = keep ours. */
  int set_identity;
  unsigned uid, gid;
  const unsigned *groups; /* supplementary groups */
  int group_count;
  unsigned long long cap_bounding; /* bit n = capability n kept in the bounding set */
  unsigned long long
      cap_effective; /* = permitted; for uid 0 only (a non-root uid ends with none) */
  int no_new_privs;
  unsigned long nofile_soft; /* 0 = keep; else the soft RLIMIT_NOFILE (at most the hard one) */
  /* seccomp(2) filter compiled in the parent (filter.c): struct sock_filter
   * instructions, or NULL for none. Loaded before the identity change when
   * no_new_privs is 0 (it needs CAP_SYS_ADMIN then), else last before execve. */
  const void *seccomp_filter;
  unsigned short seccomp_len; /* instructions, at most BPF_MAXINSNS */
  int cgroup_fd;              /* -1, or a cgroup2 directory fd: clone3 CLONE_INTO_CGROUP */
  /* cgroup v1 `tasks` files (opened O_WRONLY by the parent): the child
   * writes "0" to each right after the go byte, which moves its one thread,
   * i.e. the whole process, into that cgroup. A thread moving itself skips
   * the global cgroup_threadgroup_rwsem that a write of a pid to
   * cgroup.procs takes (an RCU grace period, ~12 ms on this kind of VM,
   * per placement). */
  int cgroup_task_fd[SPAWN_MAX_CGROUP_TASKS];
  int cgroup_task_count;
};

struct spawn_result {
  pid_t pid;
  int pidfd;
  int go_fd;       /* write one byte to let the child run; close to abort */
  int report_fd;   /* read to EOF: empty = exec'd, else a struct step_report */
  int into_cgroup; /* 1 when clone3 placed the child in plan->cgroup_fd's cgroup */
};

/* Parent. Returns 0, or -1 with errno set and *step the failing step id.
 * On failure nothing is left: no child, no fd. */
int spawn_start(const struct spawn_plan *plan, struct spawn_result *out, int *step);

/* Parent. Whether clone3(2) was available at the last spawn (1/0, -1 unknown). */
int spawn_has_clone3(void);

#endif
