/*
 * spawn.c: clone a child and run the plan in it up to execve(2).
 *
 * Parent side (Node's main thread): make the go and report pipes, block every
 * signal, optionally move our pid_for_children into the pod's pid namespace,
 * clone3(2) with CLONE_PIDFD (clone(2) when clone3 is missing), undo the pid
 * namespace switch, restore the signal mask.
 *
 * Child side: only async-signal-safe calls (signal-safety(7)). The child is a
 * fork-like copy of one thread of a threaded process: no malloc, no locks, no
 * JS. It runs the steps in the fixed order commented in child_main and, on
 * any failure, writes a step_report and _exit(127)s (report.c).
 *
 * Man pages: clone(2), setns(2), unshare(2), pidfd_open(2), sigprocmask(2),
 * close_range(2), execve(2), mount(2), cgroups(7); the terminal: tty.c.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lo.h"
#include "report.h"
#include "tty.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int has_clone3 = -1;
static int self_pidns_fd = -1;

int spawn_has_clone3(void) { return has_clone3; }

/* child: async-signal-safe only. strlen/memcpy are safe (POSIX.1-2016). */
static size_t join_path(char *buf, size_t cap, const char *dir, size_t dir_len, const char *file) {
  size_t file_len = strlen(file);
  if (dir_len == 0)
    dir = ".", dir_len = 1; /* empty PATH entry = cwd, as execvp */
  if (dir_len + 1 + file_len + 1 > cap)
    return 0;
  memcpy(buf, dir, dir_len);
  buf[dir_len] = '/';
  memcpy(buf + dir_len + 1, file, file_len + 1);
  return dir_len + 1 + file_len;
}

/* child: async-signal-safe only. execvpe(3) does this, but it may malloc. */
static void exec_search(const struct spawn_plan *p) {
  if (strchr(p->file, '/') || !p->search_path) {
    execve(p->file, p->argv, p->envp);
    return;
  }
  char buf[PATH_MAX];
  int saw_eacces = 0;
  const char *dir = p->search_path;
  for (;;) {
    const char *end = strchr(dir, ':');
    size_t len = end ? (size_t)(end - dir) : strlen(dir);
    if (join_path(buf, sizeof buf, dir, len, p->file)) {
      execve(buf, p->argv, p->envp);
      if (errno == EACCES)
        saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR)
        return; /* e.g. ENOEXEC: report it */
    }
    if (!end)
      break;
    dir = end + 1;
  }
  errno = saw_eacces ? EACCES : ENOENT;
}

/* Parent, once per process, before the first clone of a plan that sets an
 * identity: the highest capability number this kernel knows, probed on the
 * bounding set (PR_CAPBSET_READ fails with EINVAL past it; the kernel's
 * number does not change while we run). The child reads the copy of
 * `cap_last` it was cloned with, so it makes no probe of its own. */
static int cap_last = -1;

static void probe_cap_last(void) {
  int n = 0;
  while (n < 64 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0)
    n++;
  cap_last = n - 1;
}

/* child: async-signal-safe only. seccomp(2) SECCOMP_SET_MODE_FILTER with
 * the parent's BPF: a plain syscall, no allocation. Without no_new_privs the
 * kernel demands CAP_SYS_ADMIN (EACCES otherwise). */
static int load_seccomp(const struct spawn_plan *p) {
  struct sock_fprog prog = {.len = p->seccomp_len,
                            .filter = (struct sock_filter *)p->seccomp_filter};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* child: async-signal-safe only. mount(2), mkdir(2), open(2), symlink(2):
 * an existing mountpoint (EEXIST) is fine. Returns 0, or -1 with errno. */
/* pivot_root(2) "new_root and put_old may be the same directory": the old
 * root is stacked on top and detached at once (as runc does). It is made a
 * recursive slave first, so that the detach does not propagate to the host
 * through mounts still shared with it (mount propagation of volumes:
 * mount_namespaces(7)). "." after the pivot names the new root for mount(2)
 * (which does not follow the mount stacked on the cwd; umount2 does), so the
 * old root is reached through a descriptor opened before, as runc does:
 * otherwise the container's own rshared mounts would become slaves. */
static int pivot_step(const char *target) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return -1;
  int rc = -1;
  if (chdir(target) == 0 && syscall(SYS_pivot_root, ".", ".") == 0 && fchdir(oldroot) == 0 &&
      mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) == 0 && umount2(".", MNT_DETACH) == 0)
    rc = chdir("/");
  int saved = errno;
  close(oldroot);
  errno = saved;
  return rc;
}

static int mount_step(const struct spawn_mount *m) {
  int fd;
  switch (m->kind) {
  case MOUNT_MKDIR:
    return mkdir(m->target, m->mode) < 0 && errno != EEXIST ? -1 : 0;
  case MOUNT_FILE:
    fd = open(m->target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, m->mode);
    if (fd < 0)
      return -1;
    close(fd);
    return 0;
  case MOUNT_WRITE: {
    size_t len = strlen(m->source);
    ssize_t n;
    fd = open(m->target, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      return -1;
    n = write(fd, m->source, len);
    if (n < 0 || (size_t)n != len) {
      int saved = n < 0 ? errno : EIO;
      close(fd);
      errno = saved;
      return -1;
    }
    return close(fd);
  }
  case MOUNT_SYMLINK:
    return symlink(m->source, m->target) < 0 && errno != EEXIST ? -1 : 0;
  case MOUNT_PIVOT:
    return pivot_step(m->target);
  case MOUNT_MASK:
    /* runc's maskPath: binding a file over a directory fails with ENOTDIR. */
    if (mount("/dev/null", m->target, NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
      return 0;
    if (errno != ENOTDIR)
      return -1;
    return mount("tmpfs", m->target, "tmpfs", MS_RDONLY, "size=0");
  default:
    if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
      return m->optional && errno == ENOENT ? 0 : -1;
    return 0;
  }
}

/* child: async-signal-safe only. Never returns. */
static void child_main(const struct spawn_plan *p, int go_fd, int report_fd) {
  char go;
  int i;

  /* 0. Die with the parent (prctl(2) PR_SET_PDEATHSIG), set before waiting
   * for the go byte: a parent that died before this point closed the go
   * pipe, so the read below returns EOF and we exit anyway. */
  if (p->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    report_fail(report_fd, STEP_CHILD_PDEATHSIG, -1);

  /* 1. Wait for the go byte. The parent first places us (cgroup.procs, where
   * clone3 did not and we do not: 1b) and may abort by closing the pipe: EOF
   * means exit quietly. */
  if (read(go_fd, &go, 1) != 1)
    _exit(127);
  close(go_fd);

  /* 1b. Into our cgroup v1 hierarchies: "0" to a `tasks` file moves the
   * writing thread, our only one (spawn.h: cgroup_task_fd). */
  for (i = 0; i < p->cgroup_task_count; i++)
    if (write(p->cgroup_task_fd[i], "0", 1) != 1)
      report_fail(report_fd, STEP_CHILD_CGROUP, i);

  /* 2. Join the pod's namespaces, in ns.c's order (user, ipc, uts, net, pid,
   * cgroup, time, mnt). The fds were opened by the parent before clone, so
   * they name pause's namespaces even if pause has since died. */
  for (i = 0; i < p->join_count; i++)
    if (setns(p->join_fd[i], p->join_flag[i]) < 0)
      report_fail(report_fd, STEP_CHILD_SETNS, i);

  /* 2b. The container's root (an exec), as nsenter --root: the fd was opened
   * before the joins, from the container process's /proc/PID/root. */
  if (p->root_fd >= 0 && (fchdir(p->root_fd) < 0 || chroot(".") < 0))
    report_fail(report_fd, STEP_CHILD_ROOT, -1);

  /* 3. New namespaces of our own (the new pid ns was made at clone). */
  if (p->unshare_flags && unshare(p->unshare_flags) < 0)
    report_fail(report_fd, STEP_CHILD_UNSHARE, -1);

  /* 4. Own session: Ctrl-C on the supervisor's terminal must not reach the
   * containers; the supervisor stops them gracefully. */
  if (p->new_session && setsid() < 0)
    report_fail(report_fd, STEP_CHILD_SETSID, -1);

  /* 5. Hostname, only in a uts namespace we just made. */
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
    report_fail(report_fd, STEP_CHILD_HOSTNAME, -1);

  /* 6. Loopback up, only in a net namespace we just made. */
  if (p->loopback && lo_up() < 0)
    report_fail(report_fd, STEP_CHILD_LOOPBACK, -1);

  /* 7. Mounts, in plan order (first: make / private so nothing propagates
   * back to the host; then the container's own /proc). */
  for (i = 0; i < p->mount_count; i++)
    if (mount_step(&p->mounts[i]) < 0)
      report_fail(report_fd, STEP_CHILD_MOUNT, i);

  /* 8. Working directory, after the mounts it may live on. */
  if (p->cwd && chdir(p->cwd) < 0)
    report_fail(report_fd, STEP_CHILD_CHDIR, -1);

  /* 9. The soft open-files limit, lowered to what a containerd container
   * gets (Node raised ours to the hard limit at start-up). */
  if (p->nofile_soft) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
      report_fail(report_fd, STEP_CHILD_RLIMIT, -1);
    if (rl.rlim_cur > p->nofile_soft) {
      rl.rlim_cur = p->nofile_soft < rl.rlim_max ? p->nofile_soft : rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        report_fail(report_fd, STEP_CHILD_RLIMIT, -1);
    }
  }

  /* 10. The terminal, after the mounts (from the container's own devpts, as
   * runc does before finalizing the rootfs) and before we drop privileges. */
  int slave = p->tty_socket >= 0
                  ? tty_setup(p->tty_socket, p->tty_rows, p->tty_cols,
                              p->set_identity ? (int)p->uid : -1, p->tty_console, report_fd)
                  : -1;

  /* 11. Seccomp without no_new_privs: a privileged operation, so load it
   * while we still hold CAP_SYS_ADMIN, before the identity change (runc's
   * order: standard_init_linux.go loads it before finalizeNamespace). Every
   * later call (setgroups, capset, sigaction, dup2, execve) then goes
   * through the filter, as under runc. */
  if (p->seccomp_filter && !p->no_new_privs && load_seccomp(p) < 0)
    report_fail(report_fd, STEP_CHILD_SECCOMP, -1);

  /* 12. Identity and privileges, after every mount (which needs CAP_SYS_ADMIN)
   * and in runc's order: bounding set, groups, gid, uid, then the capability
   * sets of a root process, then no_new_privs. setresuid(2) to a non-zero uid
   * clears the permitted and effective sets (capabilities(7)): a non-root
   * container process keeps none, as under containerd + runc.
   * The raw system calls, not glibc's wrappers: in a copy of a threaded
   * process those run glibc's set*id broadcast (nptl-setxid), which takes a
   * lock that another thread may have held at clone time and signals every
   * thread of Node's list (none of which exists here: ~30 failed tgkill per
   * container). Our one thread is the whole process, so the kernel's
   * per-thread credentials are the process's. */
  if (p->set_identity) {
    for (i = 0; i <= cap_last; i++)
      if (!(p->cap_bounding & (1ULL << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
        report_fail(report_fd, STEP_CHILD_CAPBSET, i);
    if (syscall(SYS_setgroups, (size_t)p->group_count, (const gid_t *)p->groups) < 0)
      report_fail(report_fd, STEP_CHILD_SETGROUPS, -1);
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
      report_fail(report_fd, STEP_CHILD_SETGID, (int)p->gid);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
      report_fail(report_fd, STEP_CHILD_SETUID, (int)p->uid);
    if (p->uid == 0) {
      struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
      struct __user_cap_data_struct data[2];
      memset(data, 0, sizeof data);
      data[0].effective = data[0].permitted = (uint32_t)p->cap_effective;
      data[1].effective = data[1].permitted = (uint32_t)(p->cap_effective >> 32);
      if (syscall(SYS_capset, &hdr, data) < 0)
        report_fail(report_fd, STEP_CHILD_CAPSET, -1);
    }
    /* Ambient capabilities stay empty: they are cleared by the uid change and
     * never raised (PR_CAP_AMBIENT). */
  }
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    report_fail(report_fd, STEP_CHILD_NNP, -1);

  /* 13. Every signal back to SIG_DFL: Node ignores SIGPIPE and SIGXFSZ, and
   * ignored dispositions survive execve. Handled ones reset at exec anyway,
   * but not before: a signal now would run Node's handler in this copy. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (i = 1; i < _NSIG; i++) {
    if (i == SIGKILL || i == SIGSTOP)
      continue;
    if (sigaction(i, &dfl, 0) < 0 && errno != EINVAL)
      report_fail(report_fd, STEP_CHILD_SIGNALS, i);
  }

  /* 14. stdio: dup2 clears FD_CLOEXEC on the target; a plan fd that already
   * is 0-2 keeps its number, so clear the flag on it explicitly (Node marks
   * its own 0-2 close-on-exec). */
  for (i = 0; i < 3; i++) {
    int fd = slave >= 0 ? slave : p->stdio[i];
    if (fd == i) {
      if (fcntl(i, F_SETFD, 0) < 0)
        report_fail(report_fd, STEP_CHILD_STDIO, i);
    } else if (dup2(fd, i) < 0) {
      report_fail(report_fd, STEP_CHILD_STDIO, i);
    }
  }

  /* 15. Everything above 2 close-on-exec (not closed: the report pipe must
   * stay writable until execve). close_range(2) needs Linux 5.11. */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    struct rlimit rl;
    int max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
      max = (int)rl.rlim_cur;
    for (i = 3; i < max; i++)
      fcntl(i, F_SETFD, FD_CLOEXEC); /* EBADF: not open */
  }

  /* 16. Seccomp with no_new_privs: as late as possible, so the filter
   * sees only what the program itself does (runc loads it last before
   * execve when NoNewPrivileges is set). The report pipe is still open. */
  if (p->seccomp_filter && p->no_new_privs && load_seccomp(p) < 0)
    report_fail(report_fd, STEP_CHILD_SECCOMP, -1);

  /* 17. Unblock every signal and exec. The mask survives execve(2). */
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, 0) < 0)
    report_fail(report_fd, STEP_CHILD_SIGNALS, -1);
  exec_search(p);
  report_fail(report_fd, STEP_CHILD_EXEC, -1);
}

/* Parent: clone3 with a pidfd, else clone(2). Returns the pid (0 in the
 * child), or -1 with errno set. *into_cgroup is 1 when the child was born in
 * plan->cgroup_fd's cgroup.
 *
 * CLONE_INTO_CGROUP (clone(2), Linux 5.7, cgroup2 only): the child starts
 * in the cgroup whose directory fd is clone_args.cgroup, so it never runs
 * a single instruction in ours; without it (clone(2), or a kernel that
 * rejects the larger clone_args with E2BIG) the parent writes the pid to
 * cgroup.procs before the go byte, which also precedes execve. */
static pid_t clone_child(const struct spawn_plan *p, int *pidfd, int *into_cgroup) {
  *into_cgroup = 0;
  if (!p->legacy_clone && has_clone3 != 0) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD | (unsigned)p->clone_flags;
    args.pidfd = (unsigned long)pidfd;
    args.exit_signal = SIGCHLD;
    if (p->cgroup_fd >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (unsigned)p->cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == E2BIG && p->cgroup_fd >= 0) { /* 5.3-5.6: no cgroup field */
      args.flags &= ~CLONE_INTO_CGROUP;
      args.cgroup = 0;
      pid = syscall(SYS_clone3, &args, sizeof args);
    } else if (pid >= 0 && p->cgroup_fd >= 0) {
      *into_cgroup = 1;
    }
    if (pid >= 0 || errno != ENOSYS) {
      has_clone3 = 1;
      return (pid_t)pid;
    }
    has_clone3 = 0;
  }
  /* clone(2) without CLONE_VM and with a NULL stack is fork-like: the child
   * continues on a copy of this stack. x86-64 argument order: flags, stack,
   * parent_tid (the pidfd with CLONE_PIDFD), child_tid, tls. */
  return (pid_t)syscall(SYS_clone, CLONE_PIDFD | p->clone_flags | SIGCHLD, 0, pidfd, 0, 0);
}

static void close_pair(int fds[2]) {
  if (fds[0] >= 0)
    close(fds[0]);
  if (fds[1] >= 0)
    close(fds[1]);
  fds[0] = fds[1] = -1;
}

int spawn_start(const struct spawn_plan *p, struct spawn_result *out, int *step) {
  int go[2] = {-1, -1}, rep[2] = {-1, -1};
  int pidfd = -1, err, into_cgroup = 0;
  sigset_t all, old;
  pid_t pid;

  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
    err = errno;
    *step = STEP_SPAWN_PIPE;
    goto fail;
  }

  /* Joining a pid namespace: setns(2) on our own pid_for_children is allowed
   * in a threaded process, and keeps Node as the parent. We switch back
   * right after clone. unshare(CLONE_NEWPID) here would be a trap: Node's
   * next child_process child would become pid 1 of it. */
  if (p->pidns_fd >= 0) {
    if (self_pidns_fd < 0)
      self_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (self_pidns_fd < 0 || setns(p->pidns_fd, CLONE_NEWPID) < 0) {
      err = errno;
      *step = STEP_SPAWN_PIDNS;
      goto fail;
    }
  }

  if (p->set_identity && cap_last < 0)
    probe_cap_last();

  /* Block every signal around clone: the child must not run Node's handlers
   * before it has reset them (step 13 of child_main). */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = clone_child(p, &pidfd, &into_cgroup);
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    child_main(p, go[0], rep[1]);
  }
  err = errno;
  pthread_sigmask(SIG_SETMASK, &old, 0);
  if (p->pidns_fd >= 0 && setns(self_pidns_fd, CLONE_NEWPID) < 0) {
    /* Cannot happen for our own active namespace; if it does, every later
     * child would land in the pod's pid ns. Kill this one and fail loudly. */
    err = errno;
    if (pid > 0) {
      close_pair(go); /* the child exits at EOF on the go pipe */
      close(pidfd);
    }
    *step = STEP_SPAWN_PIDNS;
    errno = err;
    close_pair(rep);
    return -1;
  }
  if (pid < 0) {
    *step = STEP_SPAWN_CLONE;
    goto fail;
  }

  close(go[0]);
  close(rep[1]);
  out->pid = pid;
  out->pidfd = pidfd;
  out->go_fd = go[1];
  out->report_fd = rep[0];
  out->into_cgroup = into_cgroup;
  return 0;

fail:
  close_pair(go);
  close_pair(rep);
  errno = err;
  return -1;
}
