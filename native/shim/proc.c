/*
 * proc.c: the shim's processes: START (decode the plan, resolve pause's
 * namespaces, spawn through spawn.c, place in the cgroups, go), exits (the
 * OOM verdict from the cgroup's counter, the record in exits/<name>.json
 * written durably, the EVENT), STATUS records.
 *
 * Man pages: waitpid(2), setns(2), cgroups(7), rename(2), fsync(2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ns.h"
#include "../plan-codec.h"
#include "../report.h"
#include "../tty.h"
#include "request.h"
#include "shim.h"

static struct proc **procs;
static int nprocs;
static struct proc *removed[16];
static int nremoved;
static pid_t pause_pid;
/* pause's namespaces, opened once (they outlive pause while we hold them, as Node's fds did). */
static int pause_ns_fd[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

struct proc *proc_each(int i) {
  return i < nprocs ? procs[i] : NULL;
}

struct proc *proc_find(const char *name) {
  for (int i = 0; i < nprocs; i++)
    if (strcmp(procs[i]->name, name) == 0)
      return procs[i];
  return NULL;
}

int proc_count_alive(void) {
  int n = 0;
  for (int i = 0; i < nprocs; i++)
    n += procs[i]->state == P_RUNNING;
  return n;
}

void proc_kill_all(int sig) {
  for (int i = 0; i < nprocs; i++)
    if (procs[i]->state == P_RUNNING)
      kill(procs[i]->pid, sig);
}

/* The oom_kill counter of the file (memory.events / memory.oom_control), 0 when unreadable. */
static uint64_t oom_count(const char *file) {
  char text[4096];
  int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0)
    return 0;
  text[n] = 0;
  for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, "oom_kill ", 9) == 0)
      return strtoull(line + 9, NULL, 10);
  return 0;
}

/* `/proc/<pause>/ns/<type>` -> our fd of pause's namespace (opened at first use). */
static int resolve_ref(const char *ref) {
  static const char prefix[] = "/proc/<pause>/ns/";
  if (strncmp(ref, prefix, sizeof prefix - 1) != 0 || pause_pid <= 0)
    return -1;
  const char *type = ref + sizeof prefix - 1;
  int rank = ns_join_rank(ns_flag(type));
  if (rank < 0)
    return -1;
  if (pause_ns_fd[rank] < 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pause_pid, type);
    pause_ns_fd[rank] = open(path, O_RDONLY | O_CLOEXEC);
  }
  return pause_ns_fd[rank];
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void reply_fail(struct buf *r, const char *step, int err, int arg, const char *msg) {
  size_t at = frame_begin(r, REP_ERR);
  rec_str(r, T_MESSAGE, msg);
  rec_str(r, T_STEP, step);
  rec_u32(r, T_ERRNO, (uint32_t)err);
  rec_u32(r, T_ARG, (uint32_t)arg);
  frame_end(r, at);
}

/* A proc entry for `name`: the existing one (a restart: must have ended), or a new one. */
static struct proc *proc_slot(const char *name) {
  struct proc *p = proc_find(name);
  if (p)
    return p->state == P_EXITED ? p : NULL;
  struct proc **grown = realloc(procs, (size_t)(nprocs + 1) * sizeof *procs);
  if (!grown)
    return NULL;
  procs = grown;
  if (!(p = calloc(1, sizeof *p)))
    return NULL;
  snprintf(p->name, sizeof p->name, "%s", name);
  p->attach_fd = -1;
  p->fd[0] = p->fd[1] = p->in_fd = p->log_fd = -1;
  procs[nprocs++] = p;
  return p;
}

/* The run's pipes (or the tty socketpair) and their child ends in the plan. */
static int make_stdio(struct proc *p, struct spawn_plan *plan, int null_fd, int child_ends[3],
                      int *tty_sock) {
  int out[2], err[2], in[2] = {-1, -1};
  child_ends[0] = child_ends[1] = child_ends[2] = -1;
  *tty_sock = -1;
  if (p->tty) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      return -1;
    *tty_sock = sv[0];
    child_ends[0] = sv[1];
    plan->tty_socket = sv[1];
    plan->stdio[0] = plan->stdio[1] = plan->stdio[2] = null_fd;
    return 0;
  }
  if (pipe2(out, O_CLOEXEC) < 0)
    return -1;
  if (pipe2(err, O_CLOEXEC) < 0) {
    close(out[0]), close(out[1]);
    return -1;
  }
  if (p->stdin_open && pipe2(in, O_CLOEXEC) < 0) {
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    return -1;
  }
  p->fd[S_OUT] = out[0];
  p->fd[S_ERR] = err[0];
  p->in_fd = in[1];
  child_ends[0] = out[1];
  child_ends[1] = err[1];
  child_ends[2] = in[0];
  plan->stdio[0] = in[0] >= 0 ? in[0] : null_fd;
  plan->stdio[1] = out[1];
  plan->stdio[2] = err[1];
  return 0;
}

static void io_reset(struct proc *p) {
  close_fd(&p->fd[S_OUT]);
  close_fd(&p->fd[S_ERR]);
  close_fd(&p->in_fd);
  io_close_log(p);
  buf_free(&p->stdin_pending);
  for (int s = 0; s < 2; s++)
    if (p->line[s])
      p->line[s]->len = 0;
}

void proc_start(const uint8_t *payload, uint32_t len, struct buf *reply) {
  struct start_req q;
  struct plan_decoded d;
  const char *why = NULL;
  if (parse_start(payload, len, &q) < 0)
    return reply_fail(reply, "shim.request", EINVAL, -1, "shim: malformed START");
  if (plan_decode(q.plan, q.plan_len, &d, &why) < 0)
    return reply_fail(reply, "spawn.plan", EINVAL, -1, why);
  struct spawn_plan *plan = &d.plan;
  /* A root fd is an exec's (an fd of the engine's, meaningless here): the shim runs containers. */
  if (plan->root_fd >= 0) {
    plan_free(&d);
    return reply_fail(reply, "spawn.plan", EINVAL, -1,
                      "shim: rootFd is an exec's, not a container's");
  }
  for (int i = 0; i < plan->join_count; i++)
    if (d.join_ref[i] && (plan->join_fd[i] = resolve_ref(d.join_ref[i])) < 0) {
      plan_free(&d);
      return reply_fail(reply, "ns.open", errno ? errno : ENOENT, i,
                        "shim: a namespace of pause is not open");
    }
  if (d.pidns_ref && (plan->pidns_fd = resolve_ref(d.pidns_ref)) < 0) {
    plan_free(&d);
    return reply_fail(reply, "ns.open", errno ? errno : ENOENT, -1,
                      "shim: pause's pid namespace is not open");
  }
  struct proc *p = proc_slot(q.name);
  if (!p) {
    plan_free(&d);
    return reply_fail(reply, "shim.request", EBUSY, -1, "shim: the process is running");
  }
  io_reset(p);
  free(p->oom_file);
  free(p->log_path);
  p->oom_file = q.oom_file ? strdup(q.oom_file) : NULL;
  p->log_path = q.io == 1 ? strdup(q.log_path) : NULL;
  p->role = q.role;
  p->run = q.run;
  p->memory_limited = q.memory_limited;
  p->tty = q.io == 1 && q.tty;
  p->stdin_open = q.io == 1 && q.in;
  p->stdin_once = q.in_once;
  p->sessions_ended = 0;
  p->log_dropped = 0;
  p->oom = 0;
  /* The child always dies with us: a pod whose shim died is failed, and nothing of it is left
   * running. */
  plan->die_with_parent = 1;
  plan->tty_rows = (unsigned short)q.rows;
  plan->tty_cols = (unsigned short)q.cols;
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC), child_ends[3], tty_sock = -1;
  int cg_fd = q.cgroup2_dir ? open(q.cgroup2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  plan->cgroup_fd = cg_fd;
  struct spawn_result res;
  int step = STEP_SPAWN_CLONE, failed_errno = 0;
  const char *failed_step = NULL;
  if (null_fd < 0 || (q.cgroup2_dir && cg_fd < 0)) {
    failed_errno = errno, failed_step = "shim.open";
  } else if (q.io == 1 ? make_stdio(p, plan, null_fd, child_ends, &tty_sock) < 0
                       : (plan->stdio[0] = plan->stdio[1] = plan->stdio[2] = null_fd,
                          child_ends[0] = child_ends[1] = child_ends[2] = -1, 0)) {
    failed_errno = errno, failed_step = "spawn.pipe";
  } else if ((p->log_path && io_open_log(p) < 0)) {
    failed_errno = errno, failed_step = "log.open";
  } else {
    p->oom_before = oom_count(p->oom_file);
    if (spawn_start(plan, &res, &step) < 0)
      failed_errno = errno, failed_step = report_step_name(step);
  }
  for (int i = 0; i < 3; i++)
    close_fd(&child_ends[i]);
  close_fd(&null_fd);
  close_fd(&cg_fd);
  plan_free(&d);
  if (failed_step) {
    close_fd(&tty_sock);
    io_reset(p);
    p->state = P_EXITED;
    p->start_failed = 1;
    return reply_fail(reply, failed_step, failed_errno, -1, "shim: could not start the process");
  }
  /* Placed before the go byte: every hierarchy's cgroup.procs (a no-op where clone3 placed it). */
  char pid_text[16];
  int len_text = snprintf(pid_text, sizeof pid_text, "%d", (int)res.pid);
  for (int i = 0; i < q.nprocs_files && !failed_step; i++) {
    int fd = open(q.procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid_text, (size_t)len_text) != len_text)
      failed_errno = errno, failed_step = "cgroup.enter";
    if (fd >= 0)
      close(fd);
  }
  struct step_report rec;
  ssize_t got = 0;
  if (!failed_step) {
    char go = 1;
    if (write(res.go_fd, &go, 1) != 1)
      failed_errno = errno, failed_step = "spawn.go";
  }
  close(res.go_fd); /* EOF without the byte makes the child exit quietly */
  if (!failed_step) {
    /* Read the report to EOF: empty means execve happened (the pipe is close-on-exec). */
    size_t have = 0;
    while ((got = read(res.report_fd, (char *)&rec + have, sizeof rec - have)) > 0 ||
           (got < 0 && errno == EINTR))
      if (got > 0 && (have += (size_t)got) == sizeof rec)
        break;
    got = (ssize_t)have;
  }
  close(res.report_fd);
  close(res.pidfd);
  p->pid = res.pid;
  p->started_ns = now_ns();
  p->state = P_RUNNING;
  p->start_failed = 0;
  if (failed_step || got > 0) {
    /* The child is gone or going: reap it here, so its exit is no event. */
    kill(res.pid, SIGKILL);
    waitpid(res.pid, NULL, 0);
    close_fd(&tty_sock);
    io_reset(p);
    p->state = P_EXITED;
    p->start_failed = 1;
    if (failed_step)
      return reply_fail(reply, failed_step, failed_errno, -1,
                        "shim: could not place or start the process");
    if (got != (ssize_t)sizeof rec)
      return reply_fail(reply, "spawn.report", EIO, -1, "shim: truncated failure record");
    return reply_fail(reply,
                      report_step_name(rec.step) ? report_step_name(rec.step) : "child.unknown",
                      rec.err, rec.arg, "the child failed before exec");
  }
  if (p->role == 0) {
    /* A new pause (a re-created sandbox): its namespaces are opened afresh. */
    pause_pid = p->pid;
    for (int i = 0; i < 8; i++)
      close_fd(&pause_ns_fd[i]);
  }
  if (p->tty) {
    p->fd[S_OUT] = tty_recv_fd(tty_sock);
    close_fd(&tty_sock);
    if (p->fd[S_OUT] < 0) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, NULL, 0);
      io_reset(p);
      p->state = P_EXITED;
      p->start_failed = 1;
      return reply_fail(reply, "tty.receive", EBADMSG, -1, "shim: the child sent no terminal");
    }
    p->in_fd = p->stdin_open ? fcntl(p->fd[S_OUT], F_DUPFD_CLOEXEC, 3) : -1;
  }
  for (int s = 0; s < 2; s++) {
    p->t_out[s] = (struct tag){K_OUT, p, s};
    if (p->fd[s] >= 0) {
      fcntl(p->fd[s], F_SETFL, O_NONBLOCK);
      loop_add(p->fd[s], EPOLLIN, &p->t_out[s]);
    }
  }
  p->t_in = (struct tag){K_IN, p, 0};
  if (p->in_fd >= 0)
    fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
  if (p->role == 1 && q.io == 1 && p->attach_fd < 0)
    io_listen_attach(p);
  size_t at = frame_begin(reply, REP_OK);
  rec_u32(reply, T_PID, (uint32_t)p->pid);
  rec_u64(reply, T_STARTED_AT, p->started_ns);
  frame_end(reply, at);
}

void proc_reaped(pid_t pid, int wstatus) {
  for (int i = 0; i < nprocs; i++) {
    struct proc *p = procs[i];
    if (p->pid != pid || p->state != P_RUNNING)
      continue;
    p->finished_ns = now_ns();
    p->sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
    p->code = WIFSIGNALED(wstatus) ? 128 + p->sig : WEXITSTATUS(wstatus);
    /* The kernel sends the OOM SIGKILL before it counts the kill (mm/oom_kill.c): a SIGKILLed,
     * memory-limited run gets a short grace for the counter. Anything else: compare now. */
    for (int tries = 0;; tries++) {
      p->oom = oom_count(p->oom_file) > p->oom_before;
      if (p->oom || p->sig != SIGKILL || !p->memory_limited || tries >= 20)
        break;
      usleep(5000);
    }
    if (p->role == 0 && pid == pause_pid)
      pause_pid = 0;
    /* Output still in the pipes is read until EOF, or cut off after DRAIN_MS. */
    p->state = P_DRAINING;
    p->drain_deadline_ms = now_ms() + DRAIN_MS;
    if (p->fd[S_OUT] < 0 && p->fd[S_ERR] < 0)
      proc_finish(p);
    return;
  }
}

int proc_tick(void) {
  int64_t now = now_ms(), next = -1;
  for (int i = 0; i < nprocs; i++) {
    struct proc *p = procs[i];
    if (p->state != P_DRAINING)
      continue;
    if (p->fd[S_OUT] < 0 && p->fd[S_ERR] < 0)
      proc_finish(p);
    else if (p->drain_deadline_ms <= now)
      proc_finish(p);
    else if (next < 0 || p->drain_deadline_ms - now < next)
      next = p->drain_deadline_ms - now;
  }
  while (nremoved > 0)
    free(removed[--nremoved]);
  return (int)next;
}

/* exits/<name>.json, written to a tmp file, fsynced and renamed over (never half a record). */
static void write_exit(const struct proc *p) {
  char tmp[NAME_MAX_LEN + 32], file[NAME_MAX_LEN + 32], text[1024];
  snprintf(tmp, sizeof tmp, "exits/.%s.tmp", p->name);
  snprintf(file, sizeof file, "exits/%s.json", p->name);
  int n = snprintf(
      text, sizeof text,
      "{\"name\":\"%s\",\"run\":%u,\"pid\":%d,\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,"
      "\"startedAtNs\":%llu,\"finishedAtNs\":%llu,\"logDropped\":%llu}\n",
      p->name, p->run, (int)p->pid, p->code, p->sig, p->oom ? "true" : "false",
      (unsigned long long)p->started_ns, (unsigned long long)p->finished_ns,
      (unsigned long long)p->log_dropped);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0 || rename(tmp, file) < 0) {
    shim_log("%s: exit record not written: %s", p->name, strerror(errno));
    unlink(tmp);
  }
  if (fd >= 0)
    close(fd);
}

void proc_finish(struct proc *p) {
  for (int s = 0; s < 2; s++)
    if (p->fd[s] >= 0) {
      while (io_read(p, s) > 0) {
      }
      io_close_stream(p, s);
    }
  io_close_stdin(p);
  io_close_log(p);
  p->state = P_EXITED;
  if (p->log_dropped)
    shim_log("%s: %llu bytes of output were lost (the log could not take them)", p->name,
             (unsigned long long)p->log_dropped);
  write_exit(p);
  io_attach_ended(p);
  send_event(p);
}

void proc_remove(struct proc *p) {
  io_unlink_attach(p);
  for (int i = 0; i < nprocs; i++)
    if (procs[i] == p) {
      procs[i] = procs[--nprocs];
      break;
    }
  free(p->oom_file);
  free(p->log_path);
  free(p->line[0]);
  free(p->line[1]);
  /* Freed after this loop round: events of this round may still name it. */
  if (nremoved < (int)(sizeof removed / sizeof removed[0]))
    removed[nremoved++] = p;
}

void proc_record(struct buf *b, const struct proc *p) {
  size_t at = rec_open(b, T_PROC);
  rec_str(b, T_NAME, p->name);
  rec_u32(b, T_RUN, p->run);
  rec_u32(b, T_PID, (uint32_t)p->pid);
  rec_u8(b, T_ROLE, (uint8_t)p->role);
  rec_u8(b, T_STATE, p->start_failed ? 3 : p->state == P_EXITED ? 2 : 1);
  rec_u64(b, T_STARTED_AT, p->started_ns);
  if (p->state == P_EXITED && !p->start_failed) {
    rec_u64(b, T_FINISHED_AT, p->finished_ns);
    rec_u32(b, T_EXIT_CODE, (uint32_t)p->code);
    rec_u32(b, T_SIGNAL, (uint32_t)p->sig);
    rec_u8(b, T_OOM, (uint8_t)p->oom);
  }
  rec_u64(b, T_LOG_DROPPED, p->log_dropped);
  rec_close(b, at);
}
