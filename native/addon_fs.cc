// addon_fs.cc: filesystem calls Node lacks. Parent side only.
//
// mount(2) and umount2(2) in our own mount namespace, mknod(2) and the
// xattr calls of the image store (fsops.c).
#include "addon.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/types.h>

extern "C" {
#include "fsops.h"
}

namespace addon {

namespace {

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
    throw SystemError(info.Env(), errno, "mount");
  return info.Env().Undefined();
}

// umount(target, detach) -> 0 or errno (EINVAL/ENOENT: not mounted).
Napi::Value Umount(const Napi::CallbackInfo &info) {
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int r = umount2(target.c_str(), info[1].ToBoolean() ? MNT_DETACH : 0);
  return Napi::Number::New(info.Env(), r < 0 ? errno : 0);
}

// The image store's calls (native/fsops.c); each throws, TS adds the path.
// mknod(path, mode, major, minor)
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = (mode_t)info[1].As<Napi::Number>().Uint32Value();
  if (fsops_mknod(path.c_str(), mode, info[2].As<Napi::Number>().Uint32Value(),
                  info[3].As<Napi::Number>().Uint32Value()) < 0)
    throw SystemError(info.Env(), errno, "mknod");
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
    throw SystemError(info.Env(), errno, "lsetxattr");
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
    throw SystemError(info.Env(), errno, "lgetxattr");
  }
  return Napi::String::New(info.Env(), buf, (size_t)n);
}

} // namespace

void ExportFs(Napi::Env env, Napi::Object exports) {
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
}

} // namespace addon
