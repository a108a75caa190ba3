// addon.h: what the addon's files share. Parent side only; C++ and napi.h
// stay in the addon_*.cc files and addon.cc (the module's entry).
//
// One file per concern, each adding its functions to the module's exports:
//   addon_spawn.cc    JS plan -> C plan (spawn.h), spawn_start
//   addon_process.cc  a spawned child: watch its pidfd, signal it, pidfd_open
//   addon_fd.cc       descriptors Node cannot make: pipes, socketpairs,
//                     SCM_RIGHTS receive, terminal size, flock, netns sockets
//   addon_seccomp.cc  a profile -> BPF with libseccomp (filter.c)
//   addon_fs.cc       mount, umount, mknod, xattrs
#ifndef POD_LAUNCH_ADDON_H
#define POD_LAUNCH_ADDON_H

#include <napi.h>

#include <string>
#include <vector>

namespace addon {

// A failed syscall as a JS Error with {errno, code, syscall}, worded as
// Node's own ("EPERM: operation not permitted, mount"). TS words the message
// a user sees: its step and the object it worked on (PodError.system).
Napi::Error SystemError(Napi::Env env, int err, const char *syscall_name);

// A malformed argument (TS built it wrongly): a TypeError, step spawn.plan.
Napi::Error PlanError(Napi::Env env, const std::string &what);

// Fields of a JS object; each throws PlanError on a wrong type.
std::vector<std::string> StringArray(Napi::Env env, Napi::Object o, const char *key, bool required);
bool OptString(Napi::Env env, Napi::Object o, const char *key, std::string &out);
int IntField(Napi::Env env, Napi::Object o, const char *key, int dflt);

// Each file's part of the exports.
void ExportSpawn(Napi::Env env, Napi::Object exports);
void ExportProcess(Napi::Env env, Napi::Object exports);
void ExportFd(Napi::Env env, Napi::Object exports);
void ExportSeccomp(Napi::Env env, Napi::Object exports);
void ExportFs(Napi::Env env, Napi::Object exports);

} // namespace addon

#endif
