/*
 * ns.c: the namespace table (parent side, pure). See namespaces(7), setns(2).
 */
#define _GNU_SOURCE
#include "ns.h"

#include <sched.h>
#include <string.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* In join order: user, then the ones a container shares with pause, then
 * its own; mnt is joined last (setns(2): "CLONE_NEWNS ... after" the rest). */
static const struct {
  const char *name;
  int flag;
} ns_table[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
    {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
};

#define NS_COUNT (int)(sizeof ns_table / sizeof ns_table[0])

int ns_flag(const char *name) {
  for (int i = 0; i < NS_COUNT; i++)
    if (strcmp(ns_table[i].name, name) == 0)
      return ns_table[i].flag;
  return 0;
}

int ns_join_rank(int flag) {
  for (int i = 0; i < NS_COUNT; i++)
    if (ns_table[i].flag == flag)
      return i;
  return -1;
}

const char *ns_name_at(int rank) { return rank >= 0 && rank < NS_COUNT ? ns_table[rank].name : 0; }
