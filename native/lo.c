/*
 * lo.c: set IFF_UP on "lo" in the caller's (new) network namespace.
 * Runs in the child after clone(2): socket(2), ioctl(2) SIOCGIFFLAGS /
 * SIOCSIFFLAGS (netdevice(7)), close(2) only; all async-signal-safe.
 * A new net namespace has lo DOWN; 127.0.0.1 is assigned by the kernel.
 */
#define _GNU_SOURCE
#include "lo.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* child: async-signal-safe only */
int lo_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    goto fail;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    goto fail;
  close(fd);
  return 0;
fail:;
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}
