/*
 * proto.h: the shim's wire formats (docs/shim.md).
 *
 * Every connection carries frames: u8 type, u32 big-endian length, payload
 * (the attach framing of src/pod/attach-protocol.ts, used for both sockets).
 * On the control socket (<pod dir>/shim.sock) a payload is a list of records
 * in the plan codec's shape (u8 tag, u32 length, bytes: plan-codec.h).
 * Requests are answered in order, one reply each; exits are pushed as EVENT
 * frames to connections that sent WATCH.
 */
#ifndef POD_LAUNCH_SHIM_PROTO_H
#define POD_LAUNCH_SHIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The protocol version HELLO negotiates: a client that speaks another is refused. */
#define SHIM_PROTO_VERSION 1
/* A frame larger than this ends the connection (the attach protocol's MAX_FRAME). */
#define SHIM_MAX_FRAME (1u << 20)
/* A plan may be larger than an attach frame: START frames up to this. */
#define SHIM_MAX_REQUEST (PLAN_MAX_BYTES + 4096)

/* Control requests (client -> shim). */
enum shim_request {
  REQ_HELLO = 1,    /* VERSION -> OK VERSION PID */
  REQ_START = 2,    /* NAME RUN ROLE CGROUP_PROCS* CGROUP2_DIR? OOM_FILE? MEMORY_LIMITED IO
                       LOG_PATH? STDIN STDIN_ONCE TTY ROWS COLS PLAN -> OK PID STARTED_AT | ERR */
  REQ_KILL = 3,     /* NAME SIGNAL -> OK SENT */
  REQ_STATUS = 4,   /* -> OK PROC* */
  REQ_WATCH = 5,    /* -> OK, then EVENT frames (one PROC each) */
  REQ_REOPEN = 6,   /* NAME -> OK: reopen its log file (CRI ReopenContainerLog) */
  REQ_REMOVE = 7,   /* NAME -> OK: forget an exited process, close its attach socket */
  REQ_SHUTDOWN = 8, /* -> OK once every process is killed and reaped; then the shim exits */
};

/* Replies and events (shim -> client). */
enum shim_reply {
  REP_OK = 0x81,
  REP_ERR = 0x82, /* MESSAGE STEP? ERRNO? ARG? */
  REP_EVENT = 0x90,
};

/* Record tags inside control payloads. */
enum shim_tag {
  T_VERSION = 1,        /* u32 */
  T_PID = 2,            /* u32 */
  T_NAME = 3,           /* string: pause, or a container name */
  T_RUN = 4,            /* u32: the container's restart count */
  T_ROLE = 5,           /* u8: 0 pause, 1 container */
  T_CGROUP_PROCS = 6,   /* string, repeated: cgroup.procs files written before the go byte */
  T_CGROUP2_DIR = 7,    /* string: cgroup2 directory for clone3 CLONE_INTO_CGROUP */
  T_OOM_FILE = 8,       /* string: memory.events (v2) or memory.oom_control (v1) */
  T_MEMORY_LIMITED = 9, /* u8 */
  T_IO = 10,            /* u8: 0 /dev/null, 1 CRI log */
  T_LOG_PATH = 11,      /* string */
  T_STDIN = 12,         /* u8 */
  T_STDIN_ONCE = 13,    /* u8 */
  T_TTY = 14,           /* u8 */
  T_ROWS = 15,          /* u16 */
  T_COLS = 16,          /* u16 */
  T_PLAN = 17,          /* bytes: a binary plan (plan-codec.h) */
  T_STARTED_AT = 18,    /* u64 ns since the epoch */
  T_FINISHED_AT = 19,   /* u64 */
  T_STATE = 20,         /* u8: 1 running, 2 exited, 3 its last START failed (no run) */
  T_EXIT_CODE = 21,     /* u32: the exit code, or 128 + signal */
  T_SIGNAL = 22,        /* u32: the killing signal, 0 when it exited */
  T_OOM = 23,           /* u8: the cgroup's oom_kill counter grew during the run */
  T_PROC = 24,    /* records: NAME RUN PID STATE STARTED_AT [FINISHED_AT EXIT_CODE SIGNAL OOM] */
  T_MESSAGE = 25, /* string */
  T_STEP = 26,    /* string: the failing step (child.mount, spawn.clone, shim.request) */
  T_ERRNO = 27,   /* u32 */
  T_ARG = 28,     /* u32 (as int32): index into the plan list the step works on, or -1 */
  T_SENT = 29,    /* u8 */
  T_LOG_DROPPED = 30, /* u64: bytes of output the log could not take (a full disk) */
};

/* Attach frames (src/pod/attach-protocol.ts FRAME). */
enum attach_frame {
  AF_STDIN = 1,
  AF_RESIZE = 2,
  AF_STDIN_END = 3,
  AF_STDOUT = 4,
  AF_STDERR = 5,
  AF_HELLO = 6,
  AF_EXIT = 7,
  AF_ERROR = 8,
};

/* A growable byte buffer (replies, pending output). */
struct buf {
  uint8_t *data;
  size_t len, cap;
};

int buf_put(struct buf *b, const void *p, size_t n);
void buf_drop(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* Build a frame in `b`: frame_begin, records, frame_end (fills the length). */
size_t frame_begin(struct buf *b, uint8_t type);
void frame_end(struct buf *b, size_t at);
void rec_bytes(struct buf *b, uint8_t tag, const void *p, uint32_t n);
void rec_str(struct buf *b, uint8_t tag, const char *s);
void rec_u8(struct buf *b, uint8_t tag, uint8_t v);
void rec_u32(struct buf *b, uint8_t tag, uint32_t v);
void rec_u64(struct buf *b, uint8_t tag, uint64_t v);
/* Open a nested record (T_PROC); close it with rec_close. */
size_t rec_open(struct buf *b, uint8_t tag);
void rec_close(struct buf *b, size_t at);

/* Split complete frames off the front of `in`: 1 with type/payload/len set
 * (valid until the next call), 0 when more bytes are needed, -1 when the
 * frame is larger than `max`. */
int frame_next(struct buf *in, size_t *off, size_t max, uint8_t *type, const uint8_t **payload,
               uint32_t *len);

#endif
