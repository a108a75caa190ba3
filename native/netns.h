/*
 * netns.h: a socket made in another network namespace (parent side), for
 * probes that connect to a pod from inside its net namespace.
 */
#ifndef POD_LAUNCH_NETNS_H
#define POD_LAUNCH_NETNS_H

/*
 * socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) created in the
 * network namespace of `netns_fd` (an open /proc/<pid>/ns/net). Returns the
 * fd, or -1 with errno set (from pthread_create, setns or socket).
 */
int netns_socket(int netns_fd, int family);

#endif
