// addon.cc: the only file that includes napi.h. Parent side only.
//
// JS plan -> plain C plan (spawn.h), spawn, and turn pre-clone failures into
// JS errors with {step, errno, code, syscall}. Also the thin wrappers Node
// lacks: pipe2(2) with O_CLOEXEC, pidfd_open(2), pidfd_send_signal(2),
// socketpair(2) and SCM_RIGHTS receive (the container's pty master), the
// window size ioctls of a terminal (ioctl_tty(2)), and
// watching a pidfd in libuv's loop, reaped with waitid(P_PIDFD) (never
// waitpid(-1), never a SIGCHLD handler: Node's child_process keeps working).
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "filter.h"
#include "fsops.h"
#include "netns.h"
#include "ns.h"
#include "report.h"
#include "spawn.h"
}

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace {

Napi::Error SystemError(Napi::Env env, const char *step, int err, const char *syscall_name) {
  std::string msg = std::string(step) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("step", step);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", uv_err_name(-err));
  e.Set("syscall", syscall_name);
  return e;
}

Napi::Error PlanError(Napi::Env env, const std::string &what) {
  Napi::Error e = Napi::TypeError::New(env, "spawn.plan: " + what);
  e.Set("step", "spawn.plan");
  e.Set("code", "ERR_INVALID_ARG_TYPE");
  return e;
}

// Strings owned here for the duration of spawn_start; the C plan points in.
struct OwnedPlan {
  std::string file, search_path, cwd, hostname;
  std::vector<std::string> argv_s, envp_s;
  std::vector<char *> argv, envp;
  std::vector<std::string> mount_s; // 4 per mount: source, target, fstype, data
  std::vector<spawn_mount> mounts;
  std::vector<unsigned> groups;
  std::vector<uint64_t> seccomp; // struct sock_filter is 8 bytes; uint64_t keeps it aligned
  spawn_plan plan;
};

std::vector<std::string> StringArray(Napi::Env env, Napi::Object o, const char *key,
                                     bool required) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required)
    return out;
  if (!v.IsArray())
    throw PlanError(env, std::string(key) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString())
      throw PlanError(env, std::string(key) + "[" + std::to_string(i) + "] must be a string");
    std::string str = s.As<Napi::String>().Utf8Value();
    if (str.find('\0') != std::string::npos)
      throw PlanError(env, std::string(key) + " contains a NUL byte");
    out.push_back(str);
  }
  return out;
}

bool OptString(Napi::Env env, Napi::Object o, const char *key, std::string &out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull())
    return false;
  if (!v.IsString())
    throw PlanError(env, std::string(key) + " must be a string");
  out = v.As<Napi::String>().Utf8Value();
  return true;
}

int IntField(Napi::Env env, Napi::Object o, const char *key, int dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull())
    return dflt;
  if (!v.IsNumber())
    throw PlanError(env, std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

std::vector<char *> CStrings(std::vector<std::string> &v) {
  std::vector<char *> out;
  for (auto &s : v)
    out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

void ReadPlan(Napi::Env env, Napi::Object o, OwnedPlan &op) {
  spawn_plan &p = op.plan;
  memset(&p, 0, sizeof p);
  op.argv_s = StringArray(env, o, "argv", true);
  if (op.argv_s.empty())
    throw PlanError(env, "argv must not be empty");
  op.envp_s = StringArray(env, o, "envp", true);
  if (!OptString(env, o, "file", op.file))
    op.file = op.argv_s[0];
  op.argv = CStrings(op.argv_s);
  op.envp = CStrings(op.envp_s);
  p.file = op.file.c_str();
  p.argv = op.argv.data();
  p.envp = op.envp.data();
  p.search_path =
      OptString(env, o, "searchPath", op.search_path) ? op.search_path.c_str() : nullptr;
  p.cwd = OptString(env, o, "cwd", op.cwd) ? op.cwd.c_str() : nullptr;
  p.hostname = OptString(env, o, "hostname", op.hostname) ? op.hostname.c_str() : nullptr;

  Napi::Value join = o.Get("join");
  if (!join.IsUndefined()) {
    if (!join.IsArray())
      throw PlanError(env, "join must be an array");
    Napi::Array a = join.As<Napi::Array>();
    if (a.Length() > SPAWN_MAX_JOIN)
      throw PlanError(env, "join has too many entries");
    int last_rank = -1;
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object j = a.Get(i).As<Napi::Object>();
      std::string type;
      if (!OptString(env, j, "type", type))
        throw PlanError(env, "join[].type is required");
      int flag = ns_flag(type.c_str());
      if (!flag)
        throw PlanError(env, "join[" + std::to_string(i) + "].type: unknown namespace " + type);
      int rank = ns_join_rank(flag);
      if (rank <= last_rank)
        throw PlanError(env, "join must follow the order of `namespaces`");
      last_rank = rank;
      p.join_flag[p.join_count] = flag;
      p.join_fd[p.join_count] = IntField(env, j, "fd", -1);
      p.join_count++;
    }
  }
  for (const std::string &type : StringArray(env, o, "unshare", false)) {
    int flag = ns_flag(type.c_str());
    if (!flag)
      throw PlanError(env, "unshare: unknown namespace " + type);
    if (flag == CLONE_NEWPID)
      p.clone_flags |= flag; // must be made at clone
    else
      p.unshare_flags |= flag;
  }
  p.pidns_fd = IntField(env, o, "pidns", -1);
  p.loopback = o.Get("loopback").ToBoolean();
  p.new_session = o.Get("newSession").ToBoolean();
  p.die_with_parent = o.Get("dieWithParent").ToBoolean();
  p.no_new_privs = o.Get("noNewPrivs").ToBoolean();
  p.nofile_soft = (unsigned long)IntField(env, o, "nofileSoft", 0);
  Napi::Value ident = o.Get("identity");
  if (ident.IsObject()) {
    Napi::Object id = ident.As<Napi::Object>();
    p.set_identity = 1;
    p.uid = (unsigned)IntField(env, id, "uid", 0);
    p.gid = (unsigned)IntField(env, id, "gid", 0);
    Napi::Value g = id.Get("groups");
    if (g.IsArray()) {
      Napi::Array ga = g.As<Napi::Array>();
      for (uint32_t i = 0; i < ga.Length(); i++)
        op.groups.push_back((unsigned)ga.Get(i).As<Napi::Number>().Uint32Value());
    }
    p.groups = op.groups.data();
    p.group_count = (int)op.groups.size();
    // Capability masks cross as decimal strings: 64 bits do not fit a JS number.
    std::string bnd, eff;
    if (!OptString(env, id, "capBounding", bnd) || !OptString(env, id, "capEffective", eff))
      throw PlanError(
          env, "identity.capBounding and identity.capEffective are required (decimal strings)");
    p.cap_bounding = std::stoull(bnd);
    p.cap_effective = std::stoull(eff);
  }
  Napi::Value filter = o.Get("seccomp");
  if (!filter.IsUndefined() && !filter.IsNull()) {
    if (!filter.IsBuffer())
      throw PlanError(env, "seccomp must be a Buffer of struct sock_filter");
    Napi::Buffer<uint8_t> b = filter.As<Napi::Buffer<uint8_t>>();
    size_t n = b.Length() / 8;
    if (b.Length() % 8 || n == 0 || n > 4096)
      throw PlanError(env, "seccomp must hold 1 to 4096 BPF instructions (8 bytes each)");
    op.seccomp.resize(n);
    memcpy(op.seccomp.data(), b.Data(), b.Length());
    p.seccomp_filter = op.seccomp.data();
    p.seccomp_len = (unsigned short)n;
  }
  p.legacy_clone = o.Get("legacyClone").ToBoolean();
  p.cgroup_fd = IntField(env, o, "cgroupFd", -1);

  Napi::Value mounts = o.Get("mounts");
  if (!mounts.IsUndefined()) {
    if (!mounts.IsArray())
      throw PlanError(env, "mounts must be an array");
    Napi::Array a = mounts.As<Napi::Array>();
    if (a.Length() > SPAWN_MAX_MOUNTS)
      throw PlanError(env, "mounts has too many entries");
    op.mount_s.resize(a.Length() * 4);
    std::vector<bool> has(a.Length() * 4);
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object m = a.Get(i).As<Napi::Object>();
      has[i * 4 + 0] = OptString(env, m, "source", op.mount_s[i * 4 + 0]);
      has[i * 4 + 1] = OptString(env, m, "target", op.mount_s[i * 4 + 1]);
      has[i * 4 + 2] = OptString(env, m, "fstype", op.mount_s[i * 4 + 2]);
      has[i * 4 + 3] = OptString(env, m, "data", op.mount_s[i * 4 + 3]);
      if (!has[i * 4 + 1])
        throw PlanError(env, "mounts[" + std::to_string(i) + "].target is required");
      Napi::Value f = m.Get("flags");
      spawn_mount sm;
      memset(&sm, 0, sizeof sm);
      sm.flags = f.IsNumber() ? (unsigned long)f.As<Napi::Number>().Int64Value() : 0;
      std::string kind = "mount";
      OptString(env, m, "kind", kind);
      if (kind == "mount")
        sm.kind = MOUNT_MOUNT;
      else if (kind == "mkdir")
        sm.kind = MOUNT_MKDIR;
      else if (kind == "file")
        sm.kind = MOUNT_FILE;
      else if (kind == "symlink")
        sm.kind = MOUNT_SYMLINK;
      else if (kind == "pivot")
        sm.kind = MOUNT_PIVOT;
      else if (kind == "write")
        sm.kind = MOUNT_WRITE;
      else
        throw PlanError(env, "mounts[" + std::to_string(i) + "].kind: unknown " + kind);
      sm.mode = (unsigned)IntField(env, m, "mode", 0755);
      sm.optional = m.Get("optional").ToBoolean();
      if (sm.kind == MOUNT_SYMLINK && !has[i * 4 + 0])
        throw PlanError(env, "mounts[].source is required for a symlink");
      if (sm.kind == MOUNT_WRITE && !has[i * 4 + 0])
        throw PlanError(env, "mounts[].source is required for a write");
      op.mounts.push_back(sm);
    }
    // Pointers are taken only after mount_s stopped growing.
    for (uint32_t i = 0; i < a.Length(); i++) {
      const char *s[4];
      for (int k = 0; k < 4; k++)
        s[k] = has[i * 4 + k] ? op.mount_s[i * 4 + k].c_str() : nullptr;
      op.mounts[i].source = s[0];
      op.mounts[i].target = s[1];
      op.mounts[i].fstype = s[2];
      op.mounts[i].data = s[3];
    }
    p.mounts = op.mounts.data();
    p.mount_count = (int)op.mounts.size();
  }

  Napi::Value stdio = o.Get("stdio");
  if (!stdio.IsArray() || stdio.As<Napi::Array>().Length() != 3)
    throw PlanError(env, "stdio must be an array of three fds");
  for (uint32_t i = 0; i < 3; i++) {
    Napi::Value fd = stdio.As<Napi::Array>().Get(i);
    if (!fd.IsNumber() || fd.As<Napi::Number>().Int32Value() < 0)
      throw PlanError(env, "stdio[" + std::to_string(i) + "] must be an open fd");
    p.stdio[i] = fd.As<Napi::Number>().Int32Value();
  }

  p.tty_socket = -1;
  Napi::Value tty = o.Get("tty");
  if (tty.IsObject()) {
    Napi::Object t = tty.As<Napi::Object>();
    p.tty_socket = IntField(env, t, "socket", -1);
    if (p.tty_socket < 0)
      throw PlanError(env, "tty.socket must be an open fd (a unix socket)");
    int rows = IntField(env, t, "rows", 0), cols = IntField(env, t, "cols", 0);
    if (rows < 0 || rows > 65535 || cols < 0 || cols > 65535)
      throw PlanError(env, "tty.rows and tty.cols must be 0-65535");
    p.tty_rows = (unsigned short)rows;
    p.tty_cols = (unsigned short)cols;
    // TIOCSCTTY needs a session leader without a terminal (ioctl_tty(2)).
    if (!p.new_session)
      throw PlanError(env, "tty needs newSession (the slave becomes the controlling terminal)");
  }
}

Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject())
    throw PlanError(env, "plan must be an object");
  OwnedPlan op;
  ReadPlan(env, info[0].As<Napi::Object>(), op);
  spawn_result r;
  int step = STEP_SPAWN_CLONE;
  if (spawn_start(&op.plan, &r, &step) < 0) {
    int err = errno;
    const char *sys = step == STEP_SPAWN_PIPE    ? "pipe2"
                      : step == STEP_SPAWN_PIDNS ? "setns"
                                                 : "clone3";
    throw SystemError(env, report_step_name(step), err, sys);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", r.pid);
  out.Set("pidfd", r.pidfd);
  out.Set("goFd", r.go_fd);
  out.Set("reportFd", r.report_fd);
  out.Set("intoCgroup", Napi::Boolean::New(env, r.into_cgroup == 1));
  return out;
}

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
    error = SystemError(env, "spawn.wait", err, "waitid").Value();
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
    throw SystemError(env, "spawn.wait", -r, "epoll_ctl");
  }
  r = uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable);
  if (r < 0) {
    uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
    throw SystemError(env, "spawn.wait", -r, "epoll_ctl");
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
    throw SystemError(info.Env(), "spawn.pidfd", errno, "pidfd_open");
  return Napi::Number::New(info.Env(), fd);
}

// pipe() -> [readFd, writeFd], both close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    throw SystemError(info.Env(), "spawn.pipe", errno, "pipe2");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// socketpair() -> [a, b]: AF_UNIX stream sockets, both close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    throw SystemError(info.Env(), "tty.socketpair", errno, "socketpair");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// recvFd(sock) -> the fd a child sent with SCM_RIGHTS (close-on-exec), or
// throws {step: 'tty.receive'}. Non-blocking: the child sent it before execve,
// so once the spawn has succeeded it is already queued.
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  int sock = info[0].As<Napi::Number>().Int32Value();
  char byte;
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    throw SystemError(info.Env(), "tty.receive", errno, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    throw SystemError(info.Env(), "tty.receive", EBADMSG, "recvmsg");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
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

// getWinsize(fd) -> {rows, cols}; throws {step: 'tty.winsize'}.
Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws;
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCGWINSZ, &ws) < 0)
    throw SystemError(info.Env(), "tty.winsize", errno, "ioctl");
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
    throw SystemError(info.Env(), "state.lock", errno, "flock");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// mount(source, target, fstype, flags, data) in our own mount namespace (the
// parent's: e.g. a tmpfs emptyDir shared by a pod's containers); throws.
Napi::Value Mount(const Napi::CallbackInfo &info) {
  auto str = [&](size_t i) {
    return info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string();
  };
  std::string source = str(0), target = str(1), fstype = str(2), data = str(4);
  unsigned long flags = (unsigned long)info[3].As<Napi::Number>().Int64Value();
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
            fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0)
    throw SystemError(info.Env(), "volume.mount", errno, "mount");
  return info.Env().Undefined();
}

// umount(target, detach) -> 0 or errno (EINVAL/ENOENT: not mounted).
Napi::Value Umount(const Napi::CallbackInfo &info) {
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int r = umount2(target.c_str(), info[1].ToBoolean() ? MNT_DETACH : 0);
  return Napi::Number::New(info.Env(), r < 0 ? errno : 0);
}

// compileSeccomp({defaultAction, defaultErrnoRet, architectures, rules: [{name,
// action, errnoRet, args: [{index, value, valueTwo, op}]}]}) -> {bpf, unknown}.
// The profile arrives validated and already filtered by caps and arch (TS);
// 64-bit argument values cross as decimal strings. Throws seccomp.compile.
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string &what) {
    Napi::Error e = Napi::TypeError::New(env, "seccomp.compile: " + what);
    e.Set("step", "seccomp.compile");
    e.Set("code", "EINVAL");
    return e;
  };
  if (!info[0].IsObject())
    throw fail("profile must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  std::string def;
  if (!OptString(env, o, "defaultAction", def))
    throw fail("defaultAction is required");
  filter_profile fp;
  memset(&fp, 0, sizeof fp);
  if (filter_action(def.c_str(), (unsigned)IntField(env, o, "defaultErrnoRet", 1),
                    &fp.default_action) < 0)
    throw fail("defaultAction: unknown action " + def);
  std::vector<uint32_t> arches;
  for (const std::string &a : StringArray(env, o, "architectures", false)) {
    uint32_t v;
    if (filter_arch(a.c_str(), &v) < 0)
      throw fail("architectures: unknown " + a);
    arches.push_back(v);
  }
  fp.arches = arches.data();
  fp.arch_count = (int)arches.size();
  Napi::Value rv = o.Get("rules");
  if (!rv.IsArray())
    throw fail("rules must be an array");
  Napi::Array ra = rv.As<Napi::Array>();
  std::vector<std::string> names(ra.Length());
  std::vector<filter_rule> rules(ra.Length());
  Napi::Array unknown = Napi::Array::New(env);
  for (uint32_t i = 0; i < ra.Length(); i++) {
    Napi::Object r = ra.Get(i).As<Napi::Object>();
    std::string at = "rules[" + std::to_string(i) + "]";
    std::string action;
    if (!OptString(env, r, "name", names[i]) || !OptString(env, r, "action", action))
      throw fail(at + ": name and action are required");
    filter_rule &fr = rules[i];
    memset(&fr, 0, sizeof fr);
    if (filter_action(action.c_str(), (unsigned)IntField(env, r, "errnoRet", 1), &fr.action) < 0)
      throw fail(at + ".action: unknown " + action);
    if (!filter_known_syscall(names[i].c_str()))
      unknown.Set(unknown.Length(), names[i]);
    Napi::Value av = r.Get("args");
    if (av.IsArray()) {
      Napi::Array aa = av.As<Napi::Array>();
      if (aa.Length() > FILTER_MAX_ARGS)
        throw fail(at + ".args: at most 6");
      for (uint32_t k = 0; k < aa.Length(); k++) {
        Napi::Object a = aa.Get(k).As<Napi::Object>();
        std::string op, value = "0", value2 = "0";
        if (!OptString(env, a, "op", op) || filter_op(op.c_str(), &fr.args[k].op) < 0)
          throw fail(at + ".args: unknown op " + op);
        OptString(env, a, "value", value);
        OptString(env, a, "valueTwo", value2);
        fr.args[k].index = (unsigned)IntField(env, a, "index", 0);
        if (fr.args[k].index > 5)
          throw fail(at + ".args: index must be 0-5");
        fr.args[k].value = std::stoull(value);
        fr.args[k].value_two = std::stoull(value2);
      }
      fr.arg_count = aa.Length();
    }
  }
  for (uint32_t i = 0; i < ra.Length(); i++)
    rules[i].name = names[i].c_str();
  fp.rules = rules.data();
  fp.rule_count = (int)rules.size();
  unsigned char *bpf = nullptr;
  size_t len = 0;
  int bad = -1;
  const char *what = "";
  int rc = filter_compile(&fp, &bpf, &len, &bad, &what);
  if (rc < 0) {
    std::string where = bad >= 0 ? "rules[" + std::to_string(bad) + "] (" + names[bad] + ")"
                                 : std::string("profile");
    Napi::Error e = SystemError(env, "seccomp.compile", -rc, what);
    e.Set("message", "seccomp.compile: " + where + ": " + what + ": " + strerror(-rc));
    e.Set("rule", Napi::Number::New(env, bad));
    throw e;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, bpf, len));
  free(bpf);
  out.Set("unknown", unknown);
  return out;
}

// seccompVersion() -> "2.5.4": the libseccomp the addon runs with.
Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  char buf[32];
  filter_version(buf, sizeof buf);
  return Napi::String::New(info.Env(), buf);
}

Napi::Value HasClone3(const Napi::CallbackInfo &info) {
  int v = spawn_has_clone3();
  return v < 0 ? info.Env().Null() : Napi::Boolean::New(info.Env(), v == 1);
}

// Filesystem wrappers for the image store (native/fsops.c). Each throws
// {step, errno, code, syscall}; TS adds the path.
// mknod(path, mode, major, minor)
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = (mode_t)info[1].As<Napi::Number>().Uint32Value();
  if (fsops_mknod(path.c_str(), mode, info[2].As<Napi::Number>().Uint32Value(),
                  info[3].As<Napi::Number>().Uint32Value()) < 0)
    throw SystemError(info.Env(), "fs.mknod", errno, "mknod");
  return info.Env().Undefined();
}

// lsetxattr(path, name, value: string | Buffer); a Buffer for binary values
// such as security.capability (a struct with NUL bytes).
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string value;
  if (info[2].IsBuffer()) {
    Napi::Buffer<char> b = info[2].As<Napi::Buffer<char>>();
    value.assign(b.Data(), b.Length());
  } else {
    value = info[2].As<Napi::String>().Utf8Value();
  }
  if (fsops_lsetxattr(path.c_str(), name.c_str(), value.data(), value.size()) < 0)
    throw SystemError(info.Env(), "fs.setxattr", errno, "lsetxattr");
  return info.Env().Undefined();
}

// lgetxattr(path, name) -> string, or null when not set (ENODATA)
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  char buf[4096];
  long n = fsops_lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA)
      return info.Env().Null();
    throw SystemError(info.Env(), "fs.getxattr", errno, "lgetxattr");
  }
  return Napi::String::New(info.Env(), buf, (size_t)n);
}

// netnsSocket(netnsFd, family 4|6) -> fd of a non-blocking, unconnected TCP
// socket made in that network namespace (native/netns.c); throws probe.socket.
Napi::Value NetnsSocket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber())
    throw PlanError(env, "netnsSocket(netnsFd, family) expects two numbers");
  int family = info[1].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  int fd = netns_socket(info[0].As<Napi::Number>().Int32Value(), family);
  if (fd < 0)
    throw SystemError(env, "probe.socket", errno, "setns+socket");
  return Napi::Number::New(env, fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object steps = Napi::Object::New(env);
  for (int i = 0; i < STEP_COUNT; i++)
    steps.Set(report_step_name(i), i);
  exports.Set("steps", steps);

  Napi::Array ns = Napi::Array::New(env);
  for (int i = 0; ns_name_at(i); i++)
    ns.Set((uint32_t)i, ns_name_at(i));
  exports.Set("namespaces", ns);

  Napi::Object mf = Napi::Object::New(env);
#define MF(name) mf.Set(#name, Napi::Number::New(env, (double)name))
  MF(MS_RDONLY);
  MF(MS_NOSUID);
  MF(MS_NODEV);
  MF(MS_NOEXEC);
  MF(MS_REMOUNT);
  MF(MS_BIND);
  MF(MS_MOVE);
  MF(MS_REC);
  MF(MS_PRIVATE);
  MF(MS_SLAVE);
  MF(MS_SHARED);
  MF(MS_STRICTATIME);
#undef MF
  exports.Set("mountFlags", mf);

  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("watch", Napi::Function::New(env, WatchPidfd));
  exports.Set("signal", Napi::Function::New(env, Signal));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("hasClone3", Napi::Function::New(env, HasClone3));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("netnsSocket", Napi::Function::New(env, NetnsSocket));
  return exports;
}

} // namespace

NODE_API_MODULE(pod_launch, Init)
