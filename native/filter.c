/*
 * filter.c: a seccomp profile (already validated and filtered by caps and
 * arch in TypeScript) -> classic BPF, with libseccomp. Parent side only:
 * compiled once per pod and profile, the bytes travel in the spawn plan and
 * the child only loads them (seccomp(2) SECCOMP_SET_MODE_FILTER).
 *
 * Man pages: seccomp(2), seccomp_init(3), seccomp_rule_add(3),
 * seccomp_arch_add(3), seccomp_export_bpf(3), memfd_create(2).
 */
#define _GNU_SOURCE
#include "filter.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int filter_action(const char *name, unsigned errno_ret, uint32_t *out) {
  if (!strcmp(name, "SCMP_ACT_ALLOW"))
    *out = SCMP_ACT_ALLOW;
  else if (!strcmp(name, "SCMP_ACT_ERRNO"))
    *out = SCMP_ACT_ERRNO(errno_ret);
  else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
    *out = SCMP_ACT_KILL_THREAD;
  else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
    *out = SCMP_ACT_KILL_PROCESS;
  else if (!strcmp(name, "SCMP_ACT_TRAP"))
    *out = SCMP_ACT_TRAP;
  else if (!strcmp(name, "SCMP_ACT_TRACE"))
    *out = SCMP_ACT_TRACE(errno_ret);
  else if (!strcmp(name, "SCMP_ACT_LOG"))
    *out = SCMP_ACT_LOG;
  else
    return -1;
  return 0;
}

int filter_op(const char *name, int *out) {
  static const struct {
    const char *name;
    int op;
  } ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(name, ops[i].name))
      return *out = ops[i].op, 0;
  return -1;
}

int filter_arch(const char *name, uint32_t *out) {
  /* OCI "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
  char lower[64];
  size_t n = 0;
  if (strncmp(name, "SCMP_ARCH_", 10))
    return -1;
  for (const char *s = name + 10; *s && n + 1 < sizeof lower; s++)
    lower[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
  lower[n] = 0;
  uint32_t a = seccomp_arch_resolve_name(lower);
  if (!a)
    return -1;
  *out = a;
  return 0;
}

int filter_known_syscall(const char *name) {
  return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

void filter_version(char *buf, size_t cap) {
  const struct scmp_version *v = seccomp_version();
  snprintf(buf, cap, "%u.%u.%u", v->major, v->minor, v->micro);
}

/* One rule; a condition set naming the same argument twice becomes one rule
 * per condition, as runc does (libseccomp ANDs conditions on distinct args). */
static int add_rule(scmp_filter_ctx ctx, const struct filter_rule *r, int nr) {
  struct scmp_arg_cmp cmp[FILTER_MAX_ARGS];
  unsigned seen = 0, repeated = 0, i;
  for (i = 0; i < r->arg_count; i++) {
    cmp[i].arg = r->args[i].index;
    cmp[i].op = (enum scmp_compare)r->args[i].op;
    cmp[i].datum_a = r->args[i].value;
    cmp[i].datum_b = r->args[i].value_two;
    if (seen & (1u << r->args[i].index))
      repeated = 1;
    seen |= 1u << r->args[i].index;
  }
  if (!repeated)
    return seccomp_rule_add_array(ctx, r->action, nr, r->arg_count, cmp);
  for (i = 0; i < r->arg_count; i++) {
    int rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp[i]);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int filter_compile(const struct filter_profile *p, unsigned char **out, size_t *len, int *bad_rule,
                   const char **what) {
  int rc = 0, fd = -1, i;
  struct stat st;
  unsigned char *buf = NULL;
  *bad_rule = -1;
  *what = "seccomp_init";
  scmp_filter_ctx ctx = seccomp_init(p->default_action);
  if (!ctx)
    return -EINVAL;
  for (i = 0; i < p->arch_count; i++) {
    *what = "seccomp_arch_add";
    rc = seccomp_arch_add(ctx, p->arches[i]);
    if (rc == -EEXIST)
      rc = 0; /* the native arch is in already */
    if (rc < 0)
      goto done;
  }
  for (i = 0; i < p->rule_count; i++) {
    int nr = seccomp_syscall_resolve_name(p->rules[i].name);
    if (nr == __NR_SCMP_ERROR)
      continue; /* unknown to libseccomp: skipped, as runc does */
    *what = "seccomp_rule_add";
    rc = add_rule(ctx, &p->rules[i], nr);
    if (rc < 0) {
      *bad_rule = i;
      goto done;
    }
  }
  /* libseccomp 2.5 exports to an fd only: a memfd, read back whole. */
  *what = "memfd_create";
  fd = memfd_create("pod-launch-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    goto done;
  }
  *what = "seccomp_export_bpf";
  rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    goto done;
  *what = "read";
  if (fstat(fd, &st) < 0 || !(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
    rc = -(errno ? errno : ENOMEM);
    goto done;
  }
  if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
    rc = -EIO;
    goto done;
  }
  *out = buf;
  *len = (size_t)st.st_size;
  buf = NULL;
  rc = 0;
done:
  free(buf);
  if (fd >= 0)
    close(fd);
  seccomp_release(ctx);
  return rc;
}
