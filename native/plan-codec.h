/*
 * plan-codec.h: the binary process plan (parent side; one decoder for the
 * addon and the shim). TypeScript encodes a plan (src/spawn/plan-codec.ts);
 * this file turns it into a struct spawn_plan without copying strings: they
 * point into the buffer, which must outlive the spawn. docs/shim.md has the
 * format.
 *
 * Layout: "PLN1", then records: u8 tag, u32 big-endian length, payload.
 * Strings carry their terminating NUL (and no other). Integers are big-endian.
 */
#ifndef POD_LAUNCH_PLAN_CODEC_H
#define POD_LAUNCH_PLAN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "spawn.h"

#define PLAN_MAGIC "PLN1"
/* A plan larger than this is refused (argv + env + mounts + seccomp). */
#define PLAN_MAX_BYTES (16u << 20)

enum plan_tag {
  PLAN_FILE = 1,         /* string */
  PLAN_ARG = 2,          /* string, repeated in order */
  PLAN_ENV = 3,          /* string, repeated */
  PLAN_SEARCH_PATH = 4,  /* string */
  PLAN_CWD = 5,          /* string */
  PLAN_JOIN = 6,         /* i32 fd, type string, ref string (used when fd < 0) */
  PLAN_PIDNS = 7,        /* i32 fd, ref string (used when fd < 0) */
  PLAN_UNSHARE = 8,      /* type string, repeated */
  PLAN_HOSTNAME = 9,     /* string */
  PLAN_FLAGS = 10,       /* u32: PLAN_F_* */
  PLAN_MOUNT = 11,       /* u8 kind, u8 optional, u32 mode, u64 flags, 4 x (u32 len, bytes):
                            source, target, fstype, data; len 0 = absent, else with its NUL */
  PLAN_NOFILE = 12,      /* u64 soft RLIMIT_NOFILE */
  PLAN_IDENTITY = 13,    /* u32 uid, u32 gid, u64 cap bounding, u64 cap effective, u32 groups... */
  PLAN_SECCOMP = 14,     /* struct sock_filter bytes (8 each) */
  PLAN_STDIO = 15,       /* 3 x i32 */
  PLAN_TTY = 16,         /* i32 socket, u16 rows, u16 cols, u8 console (0: an exec) */
  PLAN_CGROUP_FD = 17,   /* i32 */
  PLAN_CGROUP_TASK = 18, /* i32: a cgroup v1 `tasks` file fd, repeated (spawn.h cgroup_task_fd) */
  PLAN_ROOT_FD = 19,     /* i32: a directory to chroot into after the joins (spawn.h root_fd) */
};

enum plan_flag {
  PLAN_F_LOOPBACK = 1,
  PLAN_F_NEW_SESSION = 2,
  PLAN_F_DIE_WITH_PARENT = 4,
  PLAN_F_NO_NEW_PRIVS = 8,
  PLAN_F_LEGACY_CLONE = 16,
};

/* A decoded plan and what it owns. Namespaces given as references (fd < 0
 * in the encoding) are named in join_ref / pidns_ref: the caller resolves
 * them to fds (plan.join_fd[i], plan.pidns_fd) before spawning. */
struct plan_decoded {
  struct spawn_plan plan;
  const char *join_ref[SPAWN_MAX_JOIN]; /* NULL when the fd was given */
  const char *pidns_ref;                /* NULL when given or absent */
  int has_stdio;                        /* a PLAN_STDIO record was present */
  /* owned (plan_free): */
  char **argv, **envp;
  struct spawn_mount *mounts;
  unsigned *groups;
  uint64_t *seccomp; /* aligned copy of the filter */
};

/* Decode `len` bytes at `buf` into `out`. Returns 0, or -1 with *why a static
 * message naming the field ("argv must not be empty"); nothing is then held. */
int plan_decode(const uint8_t *buf, size_t len, struct plan_decoded *out, const char **why);

/* Release what plan_decode allocated (safe on a zeroed struct). */
void plan_free(struct plan_decoded *d);

/* Shared readers of the codec's records (the shim's control frames use them too). */
struct plan_reader {
  const uint8_t *p, *end;
};
/* Next record: 1 with *tag, *payload, *len set; 0 at the end; -1 on a truncated record. */
int plan_next(struct plan_reader *r, uint8_t *tag, const uint8_t **payload, uint32_t *len);
uint32_t plan_u32(const uint8_t *p);
uint64_t plan_u64(const uint8_t *p);
/* A string payload: NUL-terminated with no NUL before it. Returns it, or NULL. */
const char *plan_string(const uint8_t *payload, uint32_t len);

#endif
