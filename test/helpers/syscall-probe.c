/*
 * syscall-probe: call syscalls a seccomp profile blocks, with arguments the
 * kernel rejects before doing anything, and print "<name> <result>" per call
 * (ok, or the errno name). Under a filter the answer is EPERM from seccomp;
 * without one it is the kernel's own (ENOSYS when not built in, EINVAL,
 * EBADF, ENOEXEC, ESRCH, ...). Compiled static at test time (seccomp.test.ts);
 * nothing here can change the host: kexec_load gets too many segments,
 * init_module an empty image, finit_module fd -1, ptrace a pid that does not
 * exist, and unshare(CLONE_NEWUSER) only moves this process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static long probe(const char *name) {
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0UL);
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0UL, "");
  if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  if (!strcmp(name, "ptrace")) return syscall(SYS_ptrace, PTRACE_ATTACH, 0x3ffffff0, NULL, NULL);
  if (!strcmp(name, "unshare-user")) return syscall(SYS_unshare, CLONE_NEWUSER);
  if (!strcmp(name, "mkdir")) return syscall(SYS_mkdir, "/tmp/probe-dir", 0755);
  errno = EINVAL;
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r = probe(argv[i]);
    if (r == -2) printf("%s unknown-probe\n", argv[i]);
    else if (r < 0) printf("%s %s\n", argv[i], strerrorname_np(errno));
    else printf("%s ok\n", argv[i]);
  }
  return 0;
}
