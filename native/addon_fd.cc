// addon_fd.cc: descriptors Node cannot make itself. Parent side only.
//
// pipe2(2) with O_CLOEXEC, socketpair(2) and the SCM_RIGHTS receive of the
// container's pty master (unix(7)), the window size ioctls of a terminal
// (ioctl_tty(2)), flock(2), and a TCP socket made in a pod's network
// namespace (netns.c).
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

extern "C" {
#include "netns.h"
#include "tty.h"
}

namespace addon {

namespace {

// pipe() -> [readFd, writeFd], both close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    throw SystemError(info.Env(), errno, "pipe2");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// socketpair() -> [a, b]: AF_UNIX stream sockets, both close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    throw SystemError(info.Env(), errno, "socketpair");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// recvFd(sock) -> the fd a child sent with SCM_RIGHTS (close-on-exec), or
// throws. Non-blocking: the child sent it before execve, so once the spawn
// has succeeded it is already queued.
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  int fd = tty_recv_fd(info[0].As<Napi::Number>().Int32Value());
  if (fd < 0)
    throw SystemError(info.Env(), errno, "recvmsg");
  return Napi::Number::New(info.Env(), fd);
}

// setWinsize(fd, rows, cols) -> 0 or errno. TIOCSWINSZ on a pty master: the
// kernel sends SIGWINCH to the slave's foreground process group.
Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  int r = ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws);
  return Napi::Number::New(info.Env(), r < 0 ? errno : 0);
}

// getWinsize(fd) -> {rows, cols}; throws.
Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws;
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCGWINSZ, &ws) < 0)
    throw SystemError(info.Env(), errno, "ioctl");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rows", ws.ws_row);
  o.Set("cols", ws.ws_col);
  return o;
}

// flock(fd, exclusive, wait=false) -> true when taken, false when another holder has it
// (EWOULDBLOCK).
Napi::Value Flock(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].ToBoolean() ? LOCK_EX : LOCK_UN;
  if (op == LOCK_EX)
    op |= LOCK_NB;
  if (flock(fd, op) < 0) {
    if (errno == EWOULDBLOCK)
      return Napi::Boolean::New(info.Env(), false);
    throw SystemError(info.Env(), errno, "flock");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// netnsSocket(netnsFd, family 4|6) -> fd of a non-blocking, unconnected TCP
// socket made in that network namespace (native/netns.c); throws.
Napi::Value NetnsSocket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber())
    throw PlanError(env, "netnsSocket(netnsFd, family) expects two numbers");
  int family = info[1].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  int fd = netns_socket(info[0].As<Napi::Number>().Int32Value(), family);
  if (fd < 0)
    throw SystemError(env, errno, "setns+socket");
  return Napi::Number::New(env, fd);
}

} // namespace

void ExportFd(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize));
  exports.Set("netnsSocket", Napi::Function::New(env, NetnsSocket));
}

} // namespace addon
