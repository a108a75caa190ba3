// addon_spawn.cc: a binary plan -> the plain C plan of spawn.h (plan-codec.c,
// shared with the shim), then spawn_start. Parent side only. Shapes are
// checked by the decoder (PlanError: TS built the plan wrongly); what the
// plan means is TS's business (src/pod/plan.ts).
#include "addon.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

extern "C" {
#include "plan-codec.h"
#include "report.h"
#include "spawn.h"
}

namespace addon {

namespace {

// spawn(plan: Buffer) -> {pid, pidfd, goFd, reportFd, intoCgroup}. The plan
// is the binary encoding of src/spawn/plan-codec.ts, decoded by the one
// decoder the shim uses too (plan-codec.c); its strings point into the
// Buffer, which lives until this call returns. The addon is given fds, never
// namespace references: those are the shim's to resolve.
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer())
    throw PlanError(env, "plan must be a Buffer (encodePlan)");
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  plan_decoded d;
  const char *why = nullptr;
  if (plan_decode(buf.Data(), buf.Length(), &d, &why) < 0)
    throw PlanError(env, why);
  std::string refused;
  for (int i = 0; i < d.plan.join_count; i++)
    if (d.join_ref[i])
      refused = "join[" + std::to_string(i) + "] is a reference (" + d.join_ref[i] + "), not an fd";
  if (d.pidns_ref)
    refused = std::string("pidns is a reference (") + d.pidns_ref + "), not an fd";
  for (int i = 0; i < 3 && refused.empty(); i++)
    if (!d.has_stdio || d.plan.stdio[i] < 0)
      refused = "stdio[" + std::to_string(i) + "] must be an open fd";
  if (!refused.empty()) {
    plan_free(&d);
    throw PlanError(env, refused);
  }
  spawn_result r;
  int step = STEP_SPAWN_CLONE;
  int rc = spawn_start(&d.plan, &r, &step);
  int err = errno;
  plan_free(&d);
  if (rc < 0) {
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
