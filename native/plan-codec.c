/*
 * plan-codec.c: decode a binary process plan into a struct spawn_plan
 * (parent side, before clone(2): allocation is allowed here). The one
 * decoder the addon (addon_spawn.cc) and the shim (shim/) share; its input
 * comes from a socket in the shim, so every length and count is checked
 * and nothing is read past the buffer (fuzzed by test/unit/shim/fuzz).
 */
#define _GNU_SOURCE
#include "plan-codec.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ns.h"

uint32_t plan_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t plan_u64(const uint8_t *p) { return (uint64_t)plan_u32(p) << 32 | plan_u32(p + 4); }

static int32_t i32(const uint8_t *p) { return (int32_t)plan_u32(p); }

int plan_next(struct plan_reader *r, uint8_t *tag, const uint8_t **payload, uint32_t *len) {
  if (r->p == r->end)
    return 0;
  if (r->end - r->p < 5)
    return -1;
  *tag = r->p[0];
  *len = plan_u32(r->p + 1);
  if ((size_t)(r->end - r->p - 5) < *len)
    return -1;
  *payload = r->p + 5;
  r->p += 5 + (size_t)*len;
  return 1;
}

const char *plan_string(const uint8_t *payload, uint32_t len) {
  if (len == 0 || payload[len - 1] != 0 || memchr(payload, 0, len - 1))
    return NULL;
  return (const char *)payload;
}

/* A string field inside a record: u32 length (0 = absent, else with its NUL),
 * then the bytes. Advances *p; -1 when malformed. */
static int sub_string(const uint8_t **p, const uint8_t *end, const char **out) {
  if (end - *p < 4)
    return -1;
  uint32_t n = plan_u32(*p);
  *p += 4;
  if ((size_t)(end - *p) < n)
    return -1;
  *out = NULL;
  if (n > 0 && !(*out = plan_string(*p, n)))
    return -1;
  *p += n;
  return 0;
}

static int mount_kind(unsigned k) { return k <= MOUNT_MASK ? (int)k : -1; }

void plan_free(struct plan_decoded *d) {
  free(d->argv);
  free(d->envp);
  free(d->mounts);
  free(d->groups);
  free(d->seccomp);
  d->argv = d->envp = NULL;
  d->mounts = NULL;
  d->groups = NULL;
  d->seccomp = NULL;
}

#define FAIL(msg)                                                                                  \
  do {                                                                                             \
    *why = msg;                                                                                    \
    goto fail;                                                                                     \
  } while (0)

int plan_decode(const uint8_t *buf, size_t len, struct plan_decoded *d, const char **why) {
  struct spawn_plan *p = &d->plan;
  struct plan_reader r;
  uint8_t tag;
  const uint8_t *v;
  uint32_t n;
  size_t nargs = 0, nenv = 0, nmounts = 0, ngroups = 0;
  int rc, last_rank = -1;

  memset(d, 0, sizeof *d);
  p->pidns_fd = -1;
  p->tty_socket = -1;
  p->tty_console = 1; /* a container's own terminal is its console; an exec's plan says 0 */
  p->cgroup_fd = -1;
  p->root_fd = -1;
  p->stdio[0] = p->stdio[1] = p->stdio[2] = -1;
  if (len > PLAN_MAX_BYTES || len < 4 || memcmp(buf, PLAN_MAGIC, 4) != 0)
    FAIL("not a version 1 plan (PLN1)");

  /* First pass: counts, so each array is allocated once. */
  r.p = buf + 4;
  r.end = buf + len;
  while ((rc = plan_next(&r, &tag, &v, &n)) > 0) {
    if (tag == PLAN_ARG)
      nargs++;
    else if (tag == PLAN_ENV)
      nenv++;
    else if (tag == PLAN_MOUNT)
      nmounts++;
  }
  if (rc < 0)
    FAIL("truncated record");
  if (nargs == 0)
    FAIL("argv must not be empty");
  if (nmounts > SPAWN_MAX_MOUNTS)
    FAIL("mounts has too many entries");
  d->argv = calloc(nargs + 1, sizeof *d->argv);
  d->envp = calloc(nenv + 1, sizeof *d->envp);
  d->mounts = calloc(nmounts ? nmounts : 1, sizeof *d->mounts);
  if (!d->argv || !d->envp || !d->mounts)
    FAIL("out of memory");
  nargs = nenv = 0;

  r.p = buf + 4;
  while (plan_next(&r, &tag, &v, &n) > 0) {
    const char *s = NULL;
    switch (tag) {
    case PLAN_FILE:
    case PLAN_ARG:
    case PLAN_ENV:
    case PLAN_SEARCH_PATH:
    case PLAN_CWD:
    case PLAN_HOSTNAME:
    case PLAN_UNSHARE:
      if (!(s = plan_string(v, n)))
        FAIL("a string field is not one NUL-terminated string");
      if (tag == PLAN_FILE)
        p->file = s;
      else if (tag == PLAN_ARG)
        d->argv[nargs++] = (char *)s;
      else if (tag == PLAN_ENV)
        d->envp[nenv++] = (char *)s;
      else if (tag == PLAN_SEARCH_PATH)
        p->search_path = s;
      else if (tag == PLAN_CWD)
        p->cwd = s;
      else if (tag == PLAN_HOSTNAME)
        p->hostname = s;
      else {
        int flag = ns_flag(s);
        if (!flag)
          FAIL("unshare: unknown namespace");
        if (flag == CLONE_NEWPID)
          p->clone_flags |= flag; /* made at clone */
        else
          p->unshare_flags |= flag;
      }
      break;
    case PLAN_JOIN: {
      const char *type, *ref;
      if (n < 6 || !(type = memchr(v + 4, 0, n - 4) ? (const char *)v + 4 : NULL))
        FAIL("join: malformed");
      size_t tlen = strlen(type) + 1;
      if (!(ref = plan_string(v + 4 + tlen, n - 4 - (uint32_t)tlen)))
        FAIL("join: malformed reference");
      if (p->join_count >= SPAWN_MAX_JOIN)
        FAIL("join has too many entries");
      int flag = ns_flag(type), rank = ns_join_rank(flag);
      if (!flag)
        FAIL("join: unknown namespace");
      if (rank <= last_rank)
        FAIL("join must follow the order of `namespaces`");
      last_rank = rank;
      p->join_flag[p->join_count] = flag;
      p->join_fd[p->join_count] = i32(v);
      d->join_ref[p->join_count] = p->join_fd[p->join_count] < 0 ? ref : NULL;
      p->join_count++;
      break;
    }
    case PLAN_PIDNS:
      if (n < 5 || !(s = plan_string(v + 4, n - 4)))
        FAIL("pidns: malformed");
      p->pidns_fd = i32(v);
      d->pidns_ref = p->pidns_fd < 0 ? s : NULL;
      break;
    case PLAN_FLAGS:
      if (n != 4)
        FAIL("flags: malformed");
      p->loopback = !!(plan_u32(v) & PLAN_F_LOOPBACK);
      p->new_session = !!(plan_u32(v) & PLAN_F_NEW_SESSION);
      p->die_with_parent = !!(plan_u32(v) & PLAN_F_DIE_WITH_PARENT);
      p->no_new_privs = !!(plan_u32(v) & PLAN_F_NO_NEW_PRIVS);
      p->legacy_clone = !!(plan_u32(v) & PLAN_F_LEGACY_CLONE);
      break;
    case PLAN_MOUNT: {
      struct spawn_mount *m = &d->mounts[p->mount_count];
      const uint8_t *q = v + 14, *end = v + n;
      if (n < 14 || mount_kind(v[0]) < 0)
        FAIL("mounts[]: malformed");
      m->kind = mount_kind(v[0]);
      m->optional = v[1] != 0;
      m->mode = plan_u32(v + 2);
      m->flags = (unsigned long)plan_u64(v + 6);
      if (sub_string(&q, end, &m->source) < 0 || sub_string(&q, end, &m->target) < 0 ||
          sub_string(&q, end, &m->fstype) < 0 || sub_string(&q, end, &m->data) < 0 || q != end)
        FAIL("mounts[]: malformed strings");
      if (!m->target)
        FAIL("mounts[].target is required");
      if ((m->kind == MOUNT_SYMLINK || m->kind == MOUNT_WRITE) && !m->source)
        FAIL("mounts[].source is required for a symlink or a write");
      p->mount_count++;
      break;
    }
    case PLAN_NOFILE:
      if (n != 8)
        FAIL("nofile: malformed");
      p->nofile_soft = (unsigned long)plan_u64(v);
      break;
    case PLAN_IDENTITY:
      if (n < 24 || (n - 24) % 4 || d->groups)
        FAIL("identity: malformed");
      ngroups = (n - 24) / 4;
      d->groups = calloc(ngroups ? ngroups : 1, sizeof *d->groups);
      if (!d->groups)
        FAIL("out of memory");
      p->set_identity = 1;
      p->uid = plan_u32(v);
      p->gid = plan_u32(v + 4);
      p->cap_bounding = plan_u64(v + 8);
      p->cap_effective = plan_u64(v + 16);
      for (size_t i = 0; i < ngroups; i++)
        d->groups[i] = plan_u32(v + 24 + 4 * i);
      p->groups = d->groups;
      p->group_count = (int)ngroups;
      break;
    case PLAN_SECCOMP:
      if (n == 0 || n % 8 || n / 8 > 4096 || d->seccomp)
        FAIL("seccomp must hold 1 to 4096 BPF instructions (8 bytes each)");
      if (!(d->seccomp = malloc(n)))
        FAIL("out of memory");
      memcpy(d->seccomp, v, n);
      p->seccomp_filter = d->seccomp;
      p->seccomp_len = (unsigned short)(n / 8);
      break;
    case PLAN_STDIO:
      if (n != 12)
        FAIL("stdio: malformed");
      for (int i = 0; i < 3; i++)
        p->stdio[i] = i32(v + 4 * i);
      d->has_stdio = 1;
      break;
    case PLAN_TTY:
      if (n != 9 || v[8] > 1)
        FAIL("tty: malformed");
      p->tty_socket = i32(v);
      p->tty_rows = (unsigned short)(v[4] << 8 | v[5]);
      p->tty_cols = (unsigned short)(v[6] << 8 | v[7]);
      p->tty_console = v[8];
      break;
    case PLAN_CGROUP_FD:
      if (n != 4)
        FAIL("cgroupFd: malformed");
      p->cgroup_fd = i32(v);
      break;
    case PLAN_CGROUP_TASK:
      if (n != 4)
        FAIL("cgroupTasks: malformed");
      if (p->cgroup_task_count >= SPAWN_MAX_CGROUP_TASKS)
        FAIL("cgroupTasks: too many");
      p->cgroup_task_fd[p->cgroup_task_count++] = i32(v);
      break;
    case PLAN_ROOT_FD:
      if (n != 4)
        FAIL("rootFd: malformed");
      p->root_fd = i32(v);
      break;
    default:
      FAIL("unknown record");
    }
  }
  if (p->tty_socket >= 0 && !p->new_session)
    FAIL("tty needs newSession (the slave becomes the controlling terminal)");
  p->file = p->file ? p->file : d->argv[0];
  p->argv = d->argv;
  p->envp = d->envp;
  p->mounts = d->mounts;
  return 0;

fail:
  plan_free(d);
  return -1;
}
