/*
 * request.c: the START request's records (see request.h, proto.h).
 */
#include "request.h"

#include <string.h>

#include "../plan-codec.h"
#include "proto.h"
#include "shim.h"

/* A process name becomes a file name (exits/<name>.json, attach/<name>.sock): a DNS-label-like
 * word. */
static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
    return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int parse_start(const uint8_t *payload, uint32_t len, struct start_req *q) {
  struct plan_reader r = {payload, payload + len};
  uint8_t tag;
  const uint8_t *v;
  uint32_t n;
  int rc;
  memset(q, 0, sizeof *q);
  while ((rc = plan_next(&r, &tag, &v, &n)) > 0) {
    const char *s = (tag == T_NAME || tag == T_CGROUP_PROCS || tag == T_CGROUP2_DIR ||
                     tag == T_OOM_FILE || tag == T_LOG_PATH)
                        ? plan_string(v, n)
                        : NULL;
    uint32_t u = n == 4 ? plan_u32(v) : n == 2 ? (uint32_t)(v[0] << 8 | v[1]) : n == 1 ? v[0] : 0;
    switch (tag) {
    case T_NAME:
      q->name = s;
      break;
    case T_CGROUP_PROCS:
      if (!s || q->nprocs_files == 8)
        return -1;
      q->procs[q->nprocs_files++] = s;
      break;
    case T_CGROUP2_DIR:
      q->cgroup2_dir = s;
      break;
    case T_OOM_FILE:
      q->oom_file = s;
      break;
    case T_LOG_PATH:
      q->log_path = s;
      break;
    case T_RUN:
      q->run = u;
      break;
    case T_ROLE:
      q->role = (int)u;
      break;
    case T_MEMORY_LIMITED:
      q->memory_limited = (int)u;
      break;
    case T_IO:
      q->io = (int)u;
      break;
    case T_STDIN:
      q->in = (int)u;
      break;
    case T_STDIN_ONCE:
      q->in_once = (int)u;
      break;
    case T_TTY:
      q->tty = (int)u;
      break;
    case T_ROWS:
      q->rows = u;
      break;
    case T_COLS:
      q->cols = u;
      break;
    case T_PLAN:
      q->plan = v;
      q->plan_len = n;
      break;
    default:
      break; /* unknown records are skipped: a newer client's extras */
    }
    if ((tag == T_NAME || tag == T_CGROUP2_DIR || tag == T_OOM_FILE || tag == T_LOG_PATH) && !s)
      return -1;
  }
  if (rc < 0 || !q->name || !q->plan || !name_ok(q->name) || q->role > 1 || q->io > 1 ||
      (q->io == 1 && !q->log_path) || q->rows > 65535 || q->cols > 65535)
    return -1;
  return 0;
}
