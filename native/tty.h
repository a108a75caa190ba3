/*
 * tty.h: the container's pseudo-terminal (child side, see tty.c).
 */
#ifndef POD_LAUNCH_TTY_H
#define POD_LAUNCH_TTY_H

/* child: async-signal-safe only. Open the container's /dev/ptmx, unlock and
 * open the slave, bind it on /dev/console (`console` 1: a container's own
 * process, not an exec'd one), set the window size (rows and
 * cols 0: leave it), give the slave to uid `owner` (> 0), send the master
 * over `sock` (SCM_RIGHTS), make the slave the controlling terminal. Returns the slave fd
 * (close-on-exec); on failure reports child.tty with a sub-step (the record's arg) and _exit(127)s.
 */
int tty_setup(int sock, unsigned short rows, unsigned short cols, int owner, int console,
              int report_fd);

/* Parent side. The fd the child sent over `sock` (SCM_RIGHTS), close-on-exec,
 * without waiting (it was sent before execve): the fd, or -1 with errno
 * (EBADMSG when the message carried none). The addon and the shim use it. */
int tty_recv_fd(int sock);

#endif
