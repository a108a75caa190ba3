/*
 * lo.h: bring up loopback in a new network namespace (child side).
 */
#ifndef POD_LAUNCH_LO_H
#define POD_LAUNCH_LO_H

/* child: async-signal-safe only. Returns 0, or -1 with errno set. */
int lo_up(void);

#endif
