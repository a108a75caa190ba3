/*
 * io.c: a container's stdio in the shim. Output (pipes, or the pty master)
 * is written to the run's CRI log as kubelet reads it:
 *   <RFC3339Nano> <stdout|stderr> <F|P> <content>\n
 * (a line longer than 16 KiB is cut into P records; the unterminated rest
 * at EOF is a P record), and copied to attach clients. The log is written
 * synchronously, so a container that outpaces the disk blocks in write(2)
 * on its full pipe (the backpressure of the Node writer); a log that fails
 * (a full disk) loses the output, counted, and never stops the shim.
 * Attach: <pod dir>/attach/<name>.sock with the framing of
 * src/pod/attach-protocol.ts (HELLO, STDOUT/STDERR, EXIT, ERROR; STDIN,
 * RESIZE, STDIN_END from the client).
 *
 * Man pages: writev(2), pty(7), ioctl_tty(2) TIOCSWINSZ, unix(7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

int io_open_log(struct proc *p) {
  p->log_fd = open(p->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  return p->log_fd < 0 ? -1 : 0;
}

void io_close_log(struct proc *p) {
  if (p->log_fd >= 0)
    close(p->log_fd);
  p->log_fd = -1;
}

/* `2016-10-06T00:17:09.669794202Z ` */
static size_t timestamp(char *out, size_t cap) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* One record: the unfinished part of the line, then `n` more bytes of it. */
static void log_record(struct proc *p, int s, const char *more, size_t n, int full) {
  struct line *l = p->line[s];
  char head[64];
  size_t hl = timestamp(head, sizeof head);
  hl += (size_t)snprintf(head + hl, sizeof head - hl, "%s %c ", s == S_OUT ? "stdout" : "stderr",
                         full ? 'F' : 'P');
  struct iovec iov[4] = {{head, hl}, {l->part, l->len}, {(void *)more, n}, {"\n", 1}};
  size_t total = hl + l->len + n + 1;
  l->len = 0;
  if (p->log_fd < 0) {
    p->log_dropped += total;
    return;
  }
  ssize_t w;
  do
    w = writev(p->log_fd, iov, 4);
  while (w < 0 && errno == EINTR);
  /* A short write (a disk that filled up in the middle) loses the rest of the record. */
  if (w < (ssize_t)total) {
    if (!p->log_dropped)
      shim_log("%s: log %s: %s", p->name, p->log_path, w < 0 ? strerror(errno) : "short write");
    p->log_dropped += total - (size_t)(w > 0 ? w : 0);
  }
}

/* Cut a chunk into records as RecordSplitter (src/pod/logs.ts) does. */
static void log_chunk(struct proc *p, int s, const char *data, size_t n) {
  struct line *l = p->line[s];
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;
    if (nl && l->len + take <= LOG_MAX_RECORD) {
      log_record(p, s, data, take, 1);
      data += take + 1;
      n -= take + 1;
    } else if (l->len + take > LOG_MAX_RECORD) {
      size_t room = LOG_MAX_RECORD - l->len;
      log_record(p, s, data, room, 0);
      data += room;
      n -= room;
    } else {
      memcpy(l->part + l->len, data, take);
      l->len += take;
      break;
    }
  }
}

static void send_frame(struct conn *c, uint8_t type, const void *p, size_t n) {
  uint8_t h[5] = {type, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  conn_send(c, h, 5);
  conn_send(c, p, n);
}

int io_read(struct proc *p, int s) {
  char chunk[65536];
  if (p->fd[s] < 0)
    return 0;
  ssize_t n = read(p->fd[s], chunk, sizeof chunk);
  if (n < 0 && errno == EINTR)
    return 1;
  if (n < 0 && errno == EAGAIN)
    return -1;
  if (n <= 0)
    return 0; /* EOF; a pty master reads EIO once the slave is closed */
  if (!p->line[s] && !(p->line[s] = calloc(1, sizeof *p->line[s]))) {
    p->log_dropped += (size_t)n;
    return 1;
  }
  for (int i = 0; conn_each(i); i++)
    if (conn_each(i)->kind == C_ATTACH && conn_each(i)->att == p)
      send_frame(conn_each(i), s == S_OUT ? AF_STDOUT : AF_STDERR, chunk, (size_t)n);
  log_chunk(p, s, chunk, (size_t)n);
  return 1;
}

void io_close_stream(struct proc *p, int s) {
  if (p->fd[s] < 0)
    return;
  if (p->line[s] && p->line[s]->len)
    log_record(p, s, "", 0, 0);
  loop_del(p->fd[s]);
  close(p->fd[s]);
  p->fd[s] = -1;
}

static void close_in(struct proc *p) {
  if (p->in_fd >= 0) {
    loop_del(p->in_fd);
    close(p->in_fd);
  }
  p->in_fd = -1;
  buf_free(&p->stdin_pending);
}

void io_flush_stdin(struct proc *p) {
  while (p->in_fd >= 0 && p->stdin_pending.len) {
    ssize_t n = write(p->in_fd, p->stdin_pending.data, p->stdin_pending.len);
    if (n > 0) {
      buf_drop(&p->stdin_pending, (size_t)n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      break;
    } else {
      close_in(p); /* EPIPE: the container stopped reading */
      return;
    }
  }
  if (p->in_fd < 0)
    return;
  if (p->stdin_pending.len) {
    if (loop_mod(p->in_fd, EPOLLOUT, &p->t_in) < 0)
      loop_add(p->in_fd, EPOLLOUT, &p->t_in);
  } else {
    loop_del(p->in_fd);
    if (!p->stdin_open)
      close_in(p); /* stdinOnce closed it while input was still queued */
  }
}

void io_write_stdin(struct proc *p, const uint8_t *data, size_t n) {
  if (!p->stdin_open || p->in_fd < 0 || n == 0)
    return;
  if (p->stdin_pending.len + n > PENDING_MAX || buf_put(&p->stdin_pending, data, n) < 0) {
    shim_log("%s: stdin is %zu bytes behind: input dropped", p->name, p->stdin_pending.len);
    return;
  }
  io_flush_stdin(p);
}

/* stdinOnce: a pipe gets EOF once its queue is written; a pty only stops taking input
 * (it cannot be half-closed; containerd and Docker do the same). */
void io_close_stdin(struct proc *p) {
  int was_open = p->stdin_open;
  p->stdin_open = 0;
  if (p->state != P_RUNNING) {
    close_in(p);
  } else if (was_open && !p->stdin_pending.len) {
    close_in(p);
  }
}

/* A JSON string of `s` (container names are DNS labels; escape anyway). */
static void json_str(char *out, size_t cap, const char *s) {
  size_t o = 0;
  if (cap < 3)
    return;
  out[o++] = '"';
  for (; *s && o + 8 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      out[o++] = '\\', out[o++] = (char)ch;
    else if (ch < 0x20)
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
    else
      out[o++] = (char)ch;
  }
  out[o++] = '"';
  out[o] = 0;
}

int io_listen_unix(const char *path, int backlog) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  unlink(a.sun_path);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || chmod(a.sun_path, 0600) < 0 ||
      listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int io_listen_attach(struct proc *p) {
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (snprintf(path, sizeof path, "attach/%s.sock", p->name) >= (int)sizeof path)
    return -1;
  mkdir("attach", 0700);
  int fd = io_listen_unix(path, 16);
  if (fd < 0) {
    shim_log("%s: attach socket: %s", p->name, strerror(errno));
    return -1;
  }
  p->attach_fd = fd;
  p->t_attach = (struct tag){K_ATTACH_LISTEN, p, 0};
  loop_add(fd, EPOLLIN, &p->t_attach);
  return 0;
}

void io_unlink_attach(struct proc *p) {
  char path[NAME_MAX_LEN + 16];
  if (p->attach_fd < 0)
    return;
  loop_del(p->attach_fd);
  close(p->attach_fd);
  p->attach_fd = -1;
  snprintf(path, sizeof path, "attach/%s.sock", p->name);
  unlink(path);
}

void io_accept_attach(struct proc *p) {
  int fd;
  while ((fd = accept4(p->attach_fd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
    struct conn *c = conn_open(fd, C_ATTACH);
    if (!c)
      continue;
    char name[2 * NAME_MAX_LEN], msg[4 * NAME_MAX_LEN];
    json_str(name, sizeof name, p->name);
    if (p->state != P_RUNNING) {
      int n = snprintf(msg, sizeof msg,
                       "{\"message\":\"attach: container %.*s: not running\",\"hint\":\"pod-launch "
                       "ps shows its state\"}",
                       (int)strlen(name) - 2, name + 1);
      send_frame(c, AF_ERROR, msg, (size_t)n);
      conn_close_later(c);
      continue;
    }
    c->att = p;
    int n = snprintf(msg, sizeof msg, "{\"container\":%s,\"tty\":%s,\"stdin\":%s}", name,
                     p->tty ? "true" : "false", p->stdin_open && p->in_fd >= 0 ? "true" : "false");
    send_frame(c, AF_HELLO, msg, (size_t)n);
  }
}

/* An attach session ended (STDIN_END, or the client went away): stdinOnce closes stdin at the
 * first. */
static void session_over(struct conn *c) {
  if (c->session_over || !c->att)
    return;
  c->session_over = 1;
  if (++c->att->sessions_ended == 1 && c->att->stdin_once)
    io_close_stdin(c->att);
}

void io_attach_frame(struct conn *c, uint8_t type, const uint8_t *payload, uint32_t len) {
  struct proc *p = c->att;
  if (!p || c->session_over)
    return;
  if (type == AF_STDIN) {
    io_write_stdin(p, payload, len);
  } else if (type == AF_RESIZE && len == 4 && p->tty && p->fd[S_OUT] >= 0) {
    struct winsize ws = {.ws_row = (unsigned short)(payload[0] << 8 | payload[1]),
                         .ws_col = (unsigned short)(payload[2] << 8 | payload[3])};
    if (ws.ws_row && ws.ws_col)
      ioctl(p->fd[S_OUT], TIOCSWINSZ, &ws);
  } else if (type == AF_STDIN_END) {
    session_over(c);
  }
}

void io_attach_gone(struct conn *c) { session_over(c); }

void io_attach_ended(struct proc *p) {
  char msg[64];
  int n = snprintf(msg, sizeof msg, "{\"exitCode\":%d}", p->code);
  for (int i = 0; conn_each(i); i++) {
    struct conn *c = conn_each(i);
    if (c->kind != C_ATTACH || c->att != p)
      continue;
    send_frame(c, AF_EXIT, msg, (size_t)n);
    c->session_over = 1;
    c->att = NULL;
    conn_close_later(c);
  }
}
