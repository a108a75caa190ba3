/*
 * shim.h: the pod shim's state (one process per pod; see shim.c).
 */
#ifndef POD_LAUNCH_SHIM_H
#define POD_LAUNCH_SHIM_H

#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* kubelet's and containerd's longest CRI log record (MAX_RECORD_BYTES in src/pod/logs.ts). */
#define LOG_MAX_RECORD (16 * 1024)
/* After an exit, output still in flight is read until EOF or this long (a daemon in a
 * shared pid namespace can hold the pipes open). */
#define DRAIN_MS 2000
/* Pending bytes for one attach client or one stdin before the client is dropped / input refused. */
#define PENDING_MAX (1u << 20)
#define NAME_MAX_LEN 253

enum proc_state { P_RUNNING = 1, P_DRAINING, P_EXITED };

/* What an epoll event is about (epoll_data.ptr points at one of these). */
enum tag_kind { K_LISTEN, K_SIGNAL, K_CONN, K_OUT, K_IN, K_ATTACH_LISTEN };
struct tag {
  int kind;
  void *obj;
  int s; /* K_OUT: the stream */
};
enum { S_OUT, S_ERR };

/* One stream's CRI log state: the unfinished line. */
struct line {
  char part[LOG_MAX_RECORD];
  size_t len;
};

/* pause or a container (its current or last run). */
struct proc {
  char name[NAME_MAX_LEN + 1];
  int role; /* 0 pause, 1 container */
  uint32_t run;
  pid_t pid;
  int state;
  int start_failed; /* the last START failed: no run to report (STATE 3) */
  uint64_t started_ns, finished_ns;
  int code, sig; /* exit code, or the killing signal */
  int oom;
  char *oom_file;
  uint64_t oom_before;
  int memory_limited;
  /* io: out/err read ends (a tty: out is the master, err -1), stdin write end */
  int fd[2], in_fd, tty, stdin_open, stdin_once, sessions_ended;
  struct line *line[2];
  int log_fd;
  char *log_path;
  uint64_t log_dropped;
  int64_t drain_deadline_ms;
  struct buf stdin_pending;
  int attach_fd; /* listening socket attach/<name>.sock, or -1 */
  struct tag t_out[2], t_in, t_attach;
};

enum conn_kind { C_CONTROL, C_ATTACH };

struct conn {
  int fd;
  int kind;
  int watching;     /* C_CONTROL: gets EVENT frames */
  int version_ok;   /* C_CONTROL: HELLO done */
  struct proc *att; /* C_ATTACH: the container */
  int session_over; /* C_ATTACH: STDIN_END seen (counts once for stdinOnce) */
  int closing;      /* close once `out` is flushed */
  struct buf in, out;
  struct tag t;
};

/* shim.c */
extern const char *shim_dir;
int64_t now_ms(void);
uint64_t now_ns(void);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int loop_add(int fd, uint32_t events, void *tag);
int loop_mod(int fd, uint32_t events, void *tag);
void loop_del(int fd);
/* Queue bytes to a connection (flushed as the socket takes them); drops it when too far behind. */
void conn_send(struct conn *c, const void *p, size_t n);
void conn_close_later(struct conn *c);
struct conn *conn_each(int i); /* iterate: NULL past the end */
/* A new connection in the loop (closed on failure). */
struct conn *conn_open(int fd, int kind);
void send_event(struct proc *p);

/* proc.c */
struct proc *proc_find(const char *name);
struct proc *proc_each(int i);
/* START: fills `reply` with an OK or ERR frame. */
void proc_start(const uint8_t *payload, uint32_t len, struct buf *reply);
/* A child was reaped. */
void proc_reaped(pid_t pid, int wstatus);
/* Exited procs whose drain time is over get finished; returns ms to the next deadline or -1. */
int proc_tick(void);
void proc_finish(struct proc *p);
void proc_remove(struct proc *p);
/* The PROC record of a process (STATUS, EVENT). */
void proc_record(struct buf *b, const struct proc *p);
int proc_count_alive(void);
void proc_kill_all(int sig);

/* io.c */
/* Output is readable on p->fd[s]: read, log, forward to attach clients. Returns 0 at EOF. */
int io_read(struct proc *p, int s);
void io_close_stream(struct proc *p, int s);
int io_open_log(struct proc *p);
void io_close_log(struct proc *p);
/* Bytes for the container's stdin (or terminal); queued when it does not take them now. */
void io_write_stdin(struct proc *p, const uint8_t *data, size_t n);
void io_flush_stdin(struct proc *p);
void io_close_stdin(struct proc *p);
/* A listening unix socket at `path` (in the pod dir), mode 0600, replacing a stale one; -1 and
 * errno. */
int io_listen_unix(const char *path, int backlog);
/* The attach socket of a container, and its connections. */
int io_listen_attach(struct proc *p);
void io_accept_attach(struct proc *p);
/* Close and unlink its attach socket (REMOVE, shutdown). */
void io_unlink_attach(struct proc *p);
void io_attach_frame(struct conn *c, uint8_t type, const uint8_t *payload, uint32_t len);
void io_attach_gone(struct conn *c);
/* Tell the attach clients of p that its run ended. */
void io_attach_ended(struct proc *p);

#endif
