// addon.cc: the module's entry (the parts are listed in addon.h). Parent
// side only.
//
// Exports the step ids, namespace names and mount flags TS must not
// hard-code, each part's functions, and the N-API glue the parts share: every
// failed syscall becomes a JS Error with {errno, code, syscall}.
#include "addon.h"

#include <uv.h>

#include <sys/mount.h>

extern "C" {
#include "ns.h"
#include "report.h"
}

namespace addon {

Napi::Error SystemError(Napi::Env env, int err, const char *syscall_name) {
  const char *code = uv_err_name(-err);
  Napi::Error e =
      Napi::Error::New(env, std::string(code) + ": " + uv_strerror(-err) + ", " + syscall_name);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", code);
  e.Set("syscall", syscall_name);
  return e;
}

Napi::Error PlanError(Napi::Env env, const std::string &what) {
  Napi::Error e = Napi::TypeError::New(env, "spawn.plan: " + what);
  e.Set("step", "spawn.plan");
  e.Set("code", "ERR_INVALID_ARG_TYPE");
  return e;
}

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

} // namespace addon

namespace {

using namespace addon;

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

  ExportSpawn(env, exports);
  ExportProcess(env, exports);
  ExportFd(env, exports);
  ExportSeccomp(env, exports);
  ExportFs(env, exports);
  return exports;
}

} // namespace

NODE_API_MODULE(pod_launch, Init)
