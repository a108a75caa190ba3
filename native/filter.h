/*
 * filter.h: compile a seccomp profile to classic BPF with libseccomp.
 * Parent only (never after clone): libseccomp allocates.
 */
#ifndef POD_LAUNCH_FILTER_H
#define POD_LAUNCH_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define FILTER_MAX_ARGS 6

struct filter_arg {
  unsigned index; /* syscall argument 0-5 */
  int op;         /* enum scmp_compare */
  uint64_t value, value_two;
};

struct filter_rule {
  const char *name; /* syscall name, resolved by libseccomp for every arch */
  uint32_t action;  /* SCMP_ACT_* with its errno/trace value */
  unsigned arg_count;
  struct filter_arg args[FILTER_MAX_ARGS];
};

struct filter_profile {
  uint32_t default_action;
  const uint32_t *arches; /* SCMP_ARCH_* besides the native one */
  int arch_count;
  const struct filter_rule *rules;
  int rule_count;
};

/* Action by OCI name ("SCMP_ACT_ERRNO"), with errno_ret for ERRNO/TRACE.
 * Returns 0, or -1 when unknown. */
int filter_action(const char *name, unsigned errno_ret, uint32_t *out);

/* Comparison by OCI name ("SCMP_CMP_MASKED_EQ"). Returns 0, or -1. */
int filter_op(const char *name, int *out);

/* Architecture by OCI name ("SCMP_ARCH_X86_64"). Returns 0, or -1. */
int filter_arch(const char *name, uint32_t *out);

/* Whether libseccomp knows this syscall name on any arch of ours (native). */
int filter_known_syscall(const char *name);

/* Compile. On success returns 0 and *out (malloc'd, free() it) holds *len
 * bytes of struct sock_filter. On failure returns a negative errno, with
 * *bad_rule the failing rule's index (or -1) and *what the libseccomp call. */
int filter_compile(const struct filter_profile *p, unsigned char **out, size_t *len, int *bad_rule,
                   const char **what);

/* "major.minor.micro" of the libseccomp we run with. */
void filter_version(char *buf, size_t cap);

#endif
