/*
 * netns.c: make a TCP socket inside a pod's network namespace (parent side,
 * never in the child). A socket belongs to the net namespace it was created
 * in, whatever thread later uses it, so only socket(2) has to run there.
 *
 * setns(2) with CLONE_NEWNET moves only the calling thread. Doing it on
 * Node's main thread or on a libuv pool thread would leave that thread in
 * the pod's namespace, so a short-lived pthread of our own joins the
 * namespace, makes the socket and exits; the caller joins it. The fd table
 * is shared by all threads, so the fd stays valid. Node then connects it
 * (net.Socket({fd}).connect: libuv's uv_tcp_connect on the existing fd).
 * Man pages: setns(2), socket(2), pthread_create(3), network_namespaces(7).
 */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

struct netns_job {
  int netns_fd;
  int family;
  int fd;  /* result */
  int err; /* errno when fd < 0 */
};

static void *netns_thread(void *arg) {
  struct netns_job *job = arg;
  if (setns(job->netns_fd, CLONE_NEWNET) < 0) {
    job->err = errno;
    return NULL;
  }
  job->fd = socket(job->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (job->fd < 0)
    job->err = errno;
  /* The thread ends here, still in the pod's namespace: nothing else ever runs on it. */
  return NULL;
}

int netns_socket(int netns_fd, int family) {
  struct netns_job job = {.netns_fd = netns_fd, .family = family, .fd = -1, .err = 0};
  pthread_t t;
  int r = pthread_create(&t, NULL, netns_thread, &job);
  if (r != 0) {
    errno = r;
    return -1;
  }
  pthread_join(t, NULL);
  if (job.fd < 0)
    errno = job.err;
  return job.fd;
}
