// addon_seccomp.cc: a seccomp profile (validated and filtered in TS) -> BPF
// bytes with libseccomp (filter.c). Parent side only: libseccomp allocates.
#include "addon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "filter.h"
}

namespace addon {

namespace {

// compileSeccomp({defaultAction, defaultErrnoRet, architectures, rules: [{name,
// action, errnoRet, args: [{index, value, valueTwo, op}]}]}) -> {bpf, unknown}.
// The profile arrives validated and already filtered by caps and arch (TS);
// 64-bit argument values cross as decimal strings. Throws a TypeError naming
// the field for a malformed profile, a SystemError with `rule` when libseccomp
// refuses it.
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string &what) {
    Napi::Error e = Napi::TypeError::New(env, what);
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
    // The failing libseccomp call is the syscall; `rule` (-1: the profile as
    // a whole) lets TS name the rule.
    Napi::Error e = SystemError(env, -rc, what);
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

} // namespace

void ExportSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
}

} // namespace addon
