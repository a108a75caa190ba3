// addon_process.cc: a child once spawned. Parent side only.
//
// Watching its pidfd in libuv's loop, reaped with waitid(P_PIDFD) (never
// waitpid(-1), never a SIGCHLD handler: Node's child_process keeps working);
// pidfd_send_signal(2) and pidfd_open(2).
#include "addon.h"

#include <uv.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace addon {

namespace {

struct Watch {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference cb;
  int pidfd;
};

void OnWatchClosed(uv_handle_t *h) { delete static_cast<Watch *>(h->data); }

// The pidfd turns readable when the process exits (pidfd_open(2)). Reap it
// with waitid(P_PIDFD); the fd itself stays open: TS owns and closes it.
void OnPidfdReadable(uv_poll_t *poll, int status, int events) {
  (void)events;
  Watch *w = static_cast<Watch *>(poll->data);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int err = 0;
  if (status < 0) {
    err = -status;
  } else {
    int r;
    do
      r = waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0)
      err = errno;
    else if (si.si_pid == 0)
      return; // not exited yet: keep polling
  }
  uv_poll_stop(poll);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Value code = env.Null(), sig = env.Null(), error = env.Null();
  if (err)
    error = SystemError(env, err, "waitid").Value();
  else if (si.si_code == CLD_EXITED)
    code = Napi::Number::New(env, si.si_status);
  else
    sig = Napi::Number::New(env, si.si_status);
  // MakeCallback runs the microtask queue afterwards, so promises settle.
  w->cb.MakeCallback(env.Global(), {code, sig, error});
  uv_close(reinterpret_cast<uv_handle_t *>(poll), OnWatchClosed);
}

// watch(pidfd, callback(code, signal, error), ref = true)
Napi::Value WatchPidfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsFunction())
    throw PlanError(env, "watch(pidfd, callback) expects a number and a function");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok)
    throw Napi::Error::New(env, "spawn.wait: no event loop");
  Watch *w = new Watch();
  w->env = env;
  w->pidfd = info[0].As<Napi::Number>().Int32Value();
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  w->poll.data = w;
  int r = uv_poll_init(loop, &w->poll, w->pidfd);
  if (r < 0) {
    delete w;
    throw SystemError(env, -r, "epoll_ctl");
  }
  r = uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable);
  if (r < 0) {
    uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
    throw SystemError(env, -r, "epoll_ctl");
  }
  if (info.Length() > 2 && !info[2].ToBoolean())
    uv_unref(reinterpret_cast<uv_handle_t *>(&w->poll));
  return env.Undefined();
}

// signal(pidfd, signo) -> 0 or errno (ESRCH once the process is gone).
Napi::Value Signal(const Napi::CallbackInfo &info) {
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  int r = (int)syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
  return Napi::Number::New(info.Env(), r < 0 ? errno : 0);
}

// pidfdOpen(pid) -> fd; throws.
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0)
    throw SystemError(info.Env(), errno, "pidfd_open");
  return Napi::Number::New(info.Env(), fd);
}

} // namespace

void ExportProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("watch", Napi::Function::New(env, WatchPidfd));
  exports.Set("signal", Napi::Function::New(env, Signal));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
}

} // namespace addon
