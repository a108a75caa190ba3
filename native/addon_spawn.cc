// addon_spawn.cc: a JS plan -> the plain C plan of spawn.h, then spawn_start.
// Parent side only. Shapes are checked here (PlanError: TS built the plan
// wrongly); what the plan means is TS's business (src/pod/plan.ts).
#include "addon.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

extern "C" {
#include "ns.h"
#include "report.h"
#include "spawn.h"
}

namespace addon {

namespace {

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

std::vector<char *> CStrings(std::vector<std::string> &v) {
  std::vector<char *> out;
  for (auto &s : v)
    out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

// join: [{type, fd}] in ns.c's order (setns(2) of each, by the child).
void ReadJoin(Napi::Env env, Napi::Object o, spawn_plan &p) {
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
}

// cgroupTasks: fds of cgroup v1 `tasks` files the child writes "0" to.
void ReadCgroupTasks(Napi::Env env, Napi::Object o, spawn_plan &p) {
  Napi::Value v = o.Get("cgroupTasks");
  if (v.IsUndefined())
    return;
  if (!v.IsArray())
    throw PlanError(env, "cgroupTasks must be an array");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > SPAWN_MAX_CGROUP_TASKS)
    throw PlanError(env, "cgroupTasks has too many entries");
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value fd = a.Get(i);
    if (!fd.IsNumber())
      throw PlanError(env, "cgroupTasks[" + std::to_string(i) + "] must be an fd");
    p.cgroup_task_fd[p.cgroup_task_count++] = fd.As<Napi::Number>().Int32Value();
  }
}

// unshare: namespace names; pid is made at clone, the rest by unshare(2).
void ReadUnshare(Napi::Env env, Napi::Object o, spawn_plan &p) {
  for (const std::string &type : StringArray(env, o, "unshare", false)) {
    int flag = ns_flag(type.c_str());
    if (!flag)
      throw PlanError(env, "unshare: unknown namespace " + type);
    if (flag == CLONE_NEWPID)
      p.clone_flags |= flag; // must be made at clone
    else
      p.unshare_flags |= flag;
  }
}

// identity: {uid, gid, groups, capBounding, capEffective} (credentials(7)).
void ReadIdentity(Napi::Env env, Napi::Object o, OwnedPlan &op) {
  spawn_plan &p = op.plan;
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
}

// seccomp: a Buffer of struct sock_filter, copied (the child reads it after clone).
void ReadSeccomp(Napi::Env env, Napi::Object o, OwnedPlan &op) {
  spawn_plan &p = op.plan;
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
}

// enum spawn_mount_kind of a NativeMount kind, or -1.
int MountKind(const std::string &kind) {
  static const struct {
    const char *name;
    int kind;
  } kinds[] = {{"mount", MOUNT_MOUNT},     {"mkdir", MOUNT_MKDIR}, {"file", MOUNT_FILE},
               {"symlink", MOUNT_SYMLINK}, {"pivot", MOUNT_PIVOT}, {"write", MOUNT_WRITE},
               {"mask", MOUNT_MASK}};
  for (const auto &k : kinds)
    if (kind == k.name)
      return k.kind;
  return -1;
}

// mounts: [{kind, source, target, fstype, flags, data, mode, optional}] in order.
void ReadMounts(Napi::Env env, Napi::Object o, OwnedPlan &op) {
  spawn_plan &p = op.plan;
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
      sm.kind = MountKind(kind);
      if (sm.kind < 0)
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
}

// stdio: three fds; tty: {socket, rows, cols} (needs newSession, read first).
void ReadStdio(Napi::Env env, Napi::Object o, spawn_plan &p) {
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
    // An exec'd process's terminal is not the container's console (runc exec).
    Napi::Value console = t.Get("console");
    p.tty_console = console.IsUndefined() ? 1 : console.ToBoolean();
    // TIOCSCTTY needs a session leader without a terminal (ioctl_tty(2)).
    if (!p.new_session)
      throw PlanError(env, "tty needs newSession (the slave becomes the controlling terminal)");
  }
}

// The whole plan, in spawn.h's field order. Throws PlanError naming the field.
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
  ReadJoin(env, o, p);
  ReadUnshare(env, o, p);
  p.pidns_fd = IntField(env, o, "pidns", -1);
  p.loopback = o.Get("loopback").ToBoolean();
  p.new_session = o.Get("newSession").ToBoolean();
  p.die_with_parent = o.Get("dieWithParent").ToBoolean();
  p.no_new_privs = o.Get("noNewPrivs").ToBoolean();
  p.nofile_soft = (unsigned long)IntField(env, o, "nofileSoft", 0);
  ReadIdentity(env, o, op);
  ReadSeccomp(env, o, op);
  p.legacy_clone = o.Get("legacyClone").ToBoolean();
  p.cgroup_fd = IntField(env, o, "cgroupFd", -1);
  ReadCgroupTasks(env, o, p);
  ReadMounts(env, o, op);
  ReadStdio(env, o, p);
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
    // Which spawn step failed is the addon's to say (report.h ids).
    Napi::Error e = SystemError(env, err, sys);
    e.Set("step", report_step_name(step));
    throw e;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", r.pid);
  out.Set("pidfd", r.pidfd);
  out.Set("goFd", r.go_fd);
  out.Set("reportFd", r.report_fd);
  out.Set("intoCgroup", Napi::Boolean::New(env, r.into_cgroup == 1));
  return out;
}

Napi::Value HasClone3(const Napi::CallbackInfo &info) {
  int v = spawn_has_clone3();
  return v < 0 ? info.Env().Null() : Napi::Boolean::New(info.Env(), v == 1);
}

} // namespace

void ExportSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("hasClone3", Napi::Function::New(env, HasClone3));
}

} // namespace addon
