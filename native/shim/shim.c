/*
 * pod-launch-shim: one small process per pod, the parent (and subreaper) of
 * the pod's pause and containers. It starts them from their stored plans
 * (plan-codec.c, then the child path of spawn.c: the same code the addon
 * runs), holds their stdio, writes their CRI logs, records every exit in
 * the pod directory, serves attach, and answers the engine on a unix socket
 * (proto.h). It outlives every Node process: the next engine adopts it.
 *
 *   pod-launch-shim --dir <pod dir> [--ready-fd N]
 *
 * Start-up: fork once (the parent exits, so the shim is nobody's child in
 * Node), setsid, PR_SET_CHILD_SUBREAPER, chdir to the pod directory, listen
 * on shim.sock, then write "ready <pid>\n" on the ready fd (conmon's sync
 * pipe) and close it. It exits after SHUTDOWN (every process killed and
 * reaped) or SIGTERM.
 *
 * Single-threaded: one epoll loop; signals through a signalfd; children
 * reaped with waitpid(-1) (we are their parent, and the subreaper of what
 * they leave behind).
 *
 * Man pages: epoll(7), signalfd(2), prctl(2) PR_SET_CHILD_SUBREAPER, unix(7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../plan-codec.h"
#include "shim.h"

const char *shim_dir;
static int epfd = -1, listen_fd = -1, sig_fd = -1;
static struct tag t_listen = {K_LISTEN, 0, 0}, t_signal = {K_SIGNAL, 0, 0};
static struct conn **conns;
static int nconns;
static int shutting_down;
static struct conn *shutdown_requester;

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void shim_log(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  dprintf(2, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ shim[%d]: %s\n", tm.tm_year + 1900,
          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
          (int)getpid(), msg);
}

int loop_add(int fd, uint32_t events, void *tag) {
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_mod(int fd, uint32_t events, void *tag) {
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del(int fd) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0); }

struct conn *conn_each(int i) {
  return i < nconns ? conns[i] : NULL;
}

struct conn *conn_open(int fd, int kind) {
  struct conn *c = calloc(1, sizeof *c),
              **grown = realloc(conns, (size_t)(nconns + 1) * sizeof *conns);
  if (!c || !grown) {
    free(c);
    if (grown)
      conns = grown;
    close(fd);
    return NULL;
  }
  conns = grown;
  c->fd = fd;
  c->kind = kind;
  c->t = (struct tag){K_CONN, c, 0};
  conns[nconns++] = c;
  loop_add(fd, EPOLLIN, &c->t);
  return c;
}

static void conn_free(struct conn *c) {
  if (c->kind == C_ATTACH)
    io_attach_gone(c);
  if (c == shutdown_requester)
    shutdown_requester = NULL;
  loop_del(c->fd);
  close(c->fd);
  buf_free(&c->in);
  buf_free(&c->out);
  for (int i = 0; i < nconns; i++)
    if (conns[i] == c) {
      conns[i] = conns[--nconns];
      break;
    }
  free(c);
}

static void conn_flush(struct conn *c) {
  while (c->out.len > 0) {
    ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      buf_drop(&c->out, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    c->closing = 2; /* the peer is gone */
    break;
  }
  loop_mod(c->fd, EPOLLIN | (c->out.len ? EPOLLOUT : 0), &c->t);
}

void conn_send(struct conn *c, const void *p, size_t n) {
  if (c->closing == 2)
    return;
  /* A reader that stopped reading does not hold the shim's memory: it is dropped. */
  if (c->out.len + n > PENDING_MAX || buf_put(&c->out, p, n) < 0) {
    shim_log("dropping a connection %zu bytes behind", c->out.len);
    c->closing = 2;
    return;
  }
  conn_flush(c);
}

void conn_close_later(struct conn *c) {
  if (!c->closing)
    c->closing = 1;
}

/* Close connections that are done (flushed, or broken). */
static void reap_conns(void) {
  for (int i = nconns - 1; i >= 0; i--) {
    struct conn *c = conns[i];
    if (c->closing == 2 || (c->closing == 1 && c->out.len == 0))
      conn_free(c);
  }
}

static void reply_err(struct buf *r, const char *step, int err, const char *msg) {
  size_t at = frame_begin(r, REP_ERR);
  rec_str(r, T_MESSAGE, msg);
  rec_str(r, T_STEP, step);
  rec_u32(r, T_ERRNO, (uint32_t)err);
  frame_end(r, at);
}

static void reply_ok(struct buf *r) { frame_end(r, frame_begin(r, REP_OK)); }

void send_event(struct proc *p) {
  struct buf b = {0};
  size_t at = frame_begin(&b, REP_EVENT);
  proc_record(&b, p);
  frame_end(&b, at);
  for (int i = 0; i < nconns; i++)
    if (conns[i]->kind == C_CONTROL && conns[i]->watching)
      conn_send(conns[i], b.data, b.len);
  buf_free(&b);
}

/* The NAME record of a request, or NULL. */
static const char *request_name(const uint8_t *payload, uint32_t len) {
  struct plan_reader r = {payload, payload + len};
  uint8_t tag;
  const uint8_t *v;
  uint32_t n;
  while (plan_next(&r, &tag, &v, &n) > 0)
    if (tag == T_NAME)
      return plan_string(v, n);
  return NULL;
}

static void begin_shutdown(struct conn *requester) {
  if (!shutting_down)
    shim_log("shutting down: killing %d processes", proc_count_alive());
  shutting_down = 1;
  if (requester)
    shutdown_requester = requester;
  proc_kill_all(SIGKILL);
}

static void control_request(struct conn *c, uint8_t type, const uint8_t *payload, uint32_t len) {
  struct buf r = {0};
  struct plan_reader rd = {payload, payload + len};
  uint8_t tag;
  const uint8_t *v;
  uint32_t n;
  if (type == REQ_HELLO) {
    uint32_t version = 0;
    while (plan_next(&rd, &tag, &v, &n) > 0)
      if (tag == T_VERSION && n == 4)
        version = plan_u32(v);
    if (version != SHIM_PROTO_VERSION) {
      reply_err(&r, "shim.version", EPROTO,
                "shim: protocol version not supported (this shim speaks 1)");
    } else {
      c->version_ok = 1;
      size_t at = frame_begin(&r, REP_OK);
      rec_u32(&r, T_VERSION, SHIM_PROTO_VERSION);
      rec_u32(&r, T_PID, (uint32_t)getpid());
      frame_end(&r, at);
    }
  } else if (!c->version_ok) {
    reply_err(&r, "shim.request", EPROTO, "shim: HELLO first");
  } else if (shutting_down && type != REQ_STATUS) {
    reply_err(&r, "shim.request", ESHUTDOWN, "shim: shutting down");
  } else if (type == REQ_START) {
    proc_start(payload, len, &r);
  } else if (type == REQ_STATUS) {
    size_t at = frame_begin(&r, REP_OK);
    for (int i = 0; proc_each(i); i++)
      proc_record(&r, proc_each(i));
    frame_end(&r, at);
  } else if (type == REQ_WATCH) {
    c->watching = 1;
    reply_ok(&r);
  } else if (type == REQ_SHUTDOWN) {
    begin_shutdown(c);
    return; /* answered once every process is reaped */
  } else if (type == REQ_KILL || type == REQ_REOPEN || type == REQ_REMOVE) {
    const char *name = request_name(payload, len);
    struct proc *p = name ? proc_find(name) : NULL;
    uint32_t sig = 0;
    while (plan_next(&rd, &tag, &v, &n) > 0)
      if (tag == T_SIGNAL && n == 4)
        sig = plan_u32(v);
    if (!p) {
      reply_err(&r, "shim.request", ESRCH, "shim: no such process");
    } else if (type == REQ_KILL) {
      if (sig == 0 || sig >= 65) {
        reply_err(&r, "shim.request", EINVAL, "shim: bad signal");
      } else {
        size_t at = frame_begin(&r, REP_OK);
        rec_u8(&r, T_SENT, p->state == P_RUNNING && kill(p->pid, (int)sig) == 0);
        frame_end(&r, at);
      }
    } else if (type == REQ_REOPEN) {
      io_close_log(p);
      if (p->log_path && io_open_log(p) < 0)
        reply_err(&r, "shim.reopen", errno, "shim: cannot reopen the log");
      else
        reply_ok(&r);
    } else if (p->state != P_EXITED) {
      reply_err(&r, "shim.request", EBUSY, "shim: the process is running");
    } else {
      proc_remove(p);
      reply_ok(&r);
    }
  } else {
    reply_err(&r, "shim.request", EINVAL, "shim: unknown request");
  }
  conn_send(c, r.data, r.len);
  buf_free(&r);
}

/* Bytes arrived on a connection: dispatch whole frames. */
static void conn_readable(struct conn *c) {
  uint8_t chunk[65536];
  ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    c->closing = 2;
    return;
  }
  if (buf_put(&c->in, chunk, (size_t)n) < 0) {
    c->closing = 2;
    return;
  }
  size_t off = 0;
  uint8_t type;
  const uint8_t *payload;
  uint32_t len;
  int rc = 0;
  size_t max = c->kind == C_CONTROL ? SHIM_MAX_REQUEST : SHIM_MAX_FRAME;
  while (!c->closing && (rc = frame_next(&c->in, &off, max, &type, &payload, &len)) > 0) {
    if (c->kind == C_CONTROL)
      control_request(c, type, payload, len);
    else
      io_attach_frame(c, type, payload, len);
  }
  if (rc < 0) {
    shim_log("closing a connection that sent an oversized frame");
    c->closing = 2;
  }
  buf_drop(&c->in, off);
}

static void on_signal(void) {
  struct signalfd_siginfo si;
  while (read(sig_fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int st;
      pid_t pid;
      while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        proc_reaped(pid, st);
    } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
      begin_shutdown(NULL);
    }
  }
}

static void accept_control(void) {
  for (;;) {
    int fd = accept4(listen_fd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    conn_open(fd, C_CONTROL);
  }
}

static void dispatch(struct tag *t, uint32_t events) {
  switch (t->kind) {
  case K_LISTEN:
    accept_control();
    break;
  case K_SIGNAL:
    on_signal();
    break;
  case K_CONN: {
    struct conn *c = t->obj;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
      conn_readable(c);
    if (events & EPOLLOUT)
      conn_flush(c);
    break;
  }
  case K_OUT:
    if (!io_read(t->obj, t->s))
      io_close_stream(t->obj, t->s);
    break;
  case K_IN:
    io_flush_stdin(t->obj);
    break;
  case K_ATTACH_LISTEN:
    io_accept_attach(t->obj);
    break;
  }
}

static int setup(const char *dir) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, 0) < 0)
    return -1;
  signal(SIGPIPE, SIG_IGN);
  if (chdir(dir) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return -1;
  mkdir("exits", 0700);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  listen_fd = io_listen_unix("shim.sock", 64);
  if (epfd < 0 || sig_fd < 0 || listen_fd < 0)
    return -1;
  loop_add(sig_fd, EPOLLIN, &t_signal);
  loop_add(listen_fd, EPOLLIN, &t_listen);
  return 0;
}

int main(int argc, char **argv) {
  int ready_fd = -1;
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("pod-launch-shim protocol %d\n", SHIM_PROTO_VERSION);
    return 0;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir") == 0)
      shim_dir = argv[i + 1];
    else if (strcmp(argv[i], "--ready-fd") == 0)
      ready_fd = atoi(argv[i + 1]);
  }
  if (!shim_dir || shim_dir[0] != '/') {
    dprintf(2, "usage: pod-launch-shim --dir <absolute pod dir> [--ready-fd N]\n");
    return 2;
  }
  /* Fork once: the parent exits at once, so we are nobody's child in Node. */
  pid_t pid = fork();
  if (pid < 0)
    return 1;
  if (pid > 0)
    _exit(0);
  setsid();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    close(null_fd);
  }
  if (setup(shim_dir) < 0) {
    shim_log("setup in %s failed: %s", shim_dir, strerror(errno));
    return 1;
  }
  shim_log("ready in %s", shim_dir);
  if (ready_fd >= 0) {
    dprintf(ready_fd, "ready %d\n", (int)getpid());
    close(ready_fd);
  }
  struct epoll_event evs[32];
  for (;;) {
    int timeout = proc_tick();
    reap_conns(); /* finishing a run may have closed attach connections */
    if (shutting_down && proc_count_alive() == 0) {
      /* Every exit is reported before the reply: output still in flight is read now. */
      for (int i = 0; proc_each(i); i++)
        if (proc_each(i)->state == P_DRAINING)
          proc_finish(proc_each(i));
      if (shutdown_requester) {
        struct buf r = {0};
        reply_ok(&r);
        conn_send(shutdown_requester, r.data, r.len);
        buf_free(&r);
        /* Give the requester its reply before we go (blocking is fine now). */
        fcntl(shutdown_requester->fd, F_SETFL, 0);
        conn_flush(shutdown_requester);
      }
      unlink("shim.sock");
      for (int i = 0; proc_each(i); i++)
        io_unlink_attach(proc_each(i));
      rmdir("attach");
      shim_log("exiting: every process is reaped");
      return 0;
    }
    int n =
        epoll_wait(epfd, evs, 32, shutting_down && (timeout < 0 || timeout > 100) ? 100 : timeout);
    if (n < 0 && errno != EINTR) {
      shim_log("epoll_wait: %s", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; i++)
      dispatch(evs[i].data.ptr, evs[i].events);
    reap_conns();
  }
}
