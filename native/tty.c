/*
 * tty.c: the container's pseudo-terminal, made in the child (after clone(2),
 * before execve(2)): async-signal-safe only (signal-safety(7)). runc's
 * console socket design: the pty comes from the container's own devpts and
 * the master travels to the parent over a unix socket; tty_recv_fd, at the
 * end, is that parent's side (the addon's and the shim's).
 *
 * Man pages: pty(7), ptmx(4), ioctl_tty(2), unlockpt(3), unix(7) (SCM_RIGHTS),
 * sendmsg(2), mount(2).
 */
#define _GNU_SOURCE
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "report.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Sub-steps of child.tty, reported as the record's arg. */
enum {
  TTY_OPEN_PTMX,
  TTY_UNLOCK,
  TTY_OPEN_SLAVE,
  TTY_WINSIZE,
  TTY_SEND,
  TTY_SETCTTY,
  TTY_CONSOLE,
  TTY_CHOWN
};

/* One byte with room for one fd beside it (SCM_RIGHTS, unix(7)): the
 * message send_fd and tty_recv_fd exchange. */
struct fd_msg {
  char byte;
  struct iovec iov;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg;
};

/* child: async-signal-safe only (memset and plain stores). Point the
 * message at its own byte and control buffer. */
static void fd_msg_init(struct fd_msg *m, char byte) {
  memset(m, 0, sizeof *m);
  m->byte = byte;
  m->iov.iov_base = &m->byte;
  m->iov.iov_len = 1;
  m->msg.msg_iov = &m->iov;
  m->msg.msg_iovlen = 1;
  m->msg.msg_control = m->u.buf;
  m->msg.msg_controllen = sizeof m->u.buf;
}

/* child: async-signal-safe only. Send one fd over a unix socket;
 * sendmsg(2) is async-signal-safe. */
static int send_fd(int sock, int fd) {
  struct fd_msg m;
  fd_msg_init(&m, 't');
  struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do
    n = sendmsg(sock, &m.msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

/* child: async-signal-safe only. The slave's path, /dev/pts/<TIOCGPTN>,
 * into path[32]. */
static int slave_path(int master, char *path) {
  unsigned n;
  char digits[12];
  int len = 0, at = 9;
  if (ioctl(master, TIOCGPTN, &n) < 0)
    return -1;
  memcpy(path, "/dev/pts/", 9);
  do
    digits[len++] = (char)('0' + n % 10), n /= 10;
  while (n && len < (int)sizeof digits);
  while (len)
    path[at++] = digits[--len];
  path[at] = 0;
  return 0;
}

/* child: async-signal-safe only. The slave by path (kernels before 4.13
 * lack TIOCGPTPEER). */
static int open_slave_by_path(const char *path) {
  return open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

/* child: async-signal-safe only. /dev/console is the container's terminal,
 * as runc bind-mounts it for a process with a terminal. */
static int mount_console(const char *slave) {
  int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  close(fd);
  return mount(slave, "/dev/console", 0, MS_BIND, 0);
}

/* child: async-signal-safe only. runc's console, in the container's own
 * /dev: open /dev/ptmx (its devpts is a new instance, so a pty made from the
 * host's ptmx would not exist in it), unlock the slave (unlockpt(3) is
 * ioctl TIOCSPTLCK; grantpt(3) has nothing to do on devpts, whose mode and
 * gid options set the slave's), open the slave, bind it on /dev/console
 * (runc's mountConsole), set the window size, send
 * the master to the parent and make the slave our controlling terminal
 * (we are a session leader since step 4 of spawn.c). Returns the slave fd. */
int tty_setup(int sock, unsigned short rows, unsigned short cols, int owner, int console,
              int report_fd) {
  int zero = 0;
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_OPEN_PTMX);
  if (ioctl(master, TIOCSPTLCK, &zero) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_UNLOCK);
  char path[32];
  if (slave_path(master, path) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_OPEN_SLAVE);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0 && (errno == EINVAL || errno == ENOTTY))
    slave = open_slave_by_path(path);
  if (slave < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_OPEN_SLAVE);
  /* Only a container's first process owns /dev/console: an exec'd one
   * (runc exec) must not overmount it in the mount namespace it joined. */
  if (console && mount_console(path) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_CONSOLE);
  /* The container's user owns its terminal (runc's fixStdioPermissions; the
   * group stays devpts' tty): it can reopen /dev/tty, as under runc. */
  if (owner > 0 && fchown(slave, (uid_t)owner, (gid_t)-1) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_CHOWN);
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols, .ws_xpixel = 0, .ws_ypixel = 0};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      report_fail(report_fd, STEP_CHILD_TTY, TTY_WINSIZE);
  }
  if (send_fd(sock, master) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_SEND);
  close(master);
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    report_fail(report_fd, STEP_CHILD_TTY, TTY_SETCTTY);
  return slave;
}

int tty_recv_fd(int sock) {
  struct fd_msg m;
  fd_msg_init(&m, 0);
  ssize_t n;
  do
    n = recvmsg(sock, &m.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
  if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
    errno = EBADMSG;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}
