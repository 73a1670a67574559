// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#include "seccomp_filter.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "system_error.h"

namespace spo {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<void, CtxDeleter>;

uint64_t ToU64(Napi::Value value) {
  if (value.IsBigInt()) {
    bool lossless = true;
    return value.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(value.ToNumber().Int64Value());
}

std::vector<uint8_t> ExportBpf(Napi::Env env, scmp_filter_ctx ctx) {
  int fd = memfd_create("spo-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw SystemError(env, errno, "memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    close(fd);
    throw SystemError(env, rc, "seccomp_export_bpf");
  }
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<uint8_t> bytes(size > 0 ? static_cast<size_t>(size) : 0);
  ssize_t got = pread(fd, bytes.data(), bytes.size(), 0);
  int saved = errno;
  close(fd);
  if (got != static_cast<ssize_t>(bytes.size())) throw SystemError(env, got < 0 ? saved : EIO, "pread");
  return bytes;
}

}  // namespace

// spec: { defaultAction, badArchAction, architectures: string[] (libseccomp names),
//         rules: [{ name, action, args: [{ index, op, value, valueTwo }] }] }
// Actions are the numeric SCMP_ACT_* values; the mapping from profile names is in TypeScript.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "spec must be an object");
  Napi::Object spec = info[0].As<Napi::Object>();
  uint32_t default_action = spec.Get("defaultAction").ToNumber().Uint32Value();
  uint32_t bad_arch_action = spec.Get("badArchAction").ToNumber().Uint32Value();

  FilterCtx ctx(seccomp_init(default_action));
  if (!ctx) throw SystemError(env, EINVAL, "seccomp_init");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, bad_arch_action);
  if (rc < 0) throw SystemError(env, rc, "seccomp_attr_set");

  Napi::Array arches = spec.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).ToString();
    uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (token == 0) throw SystemError(env, EINVAL, "seccomp_arch_resolve_name " + name);
    if (token == seccomp_arch_native()) continue;
    rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST) throw SystemError(env, rc, "seccomp_arch_add " + name);
  }

  Napi::Array unknown = Napi::Array::New(env);
  uint32_t unknown_count = 0;
  Napi::Array rules = spec.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("name").ToString();
    uint32_t action = rule.Get("action").ToNumber().Uint32Value();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      // as runc does: a name this libseccomp does not know cannot be filtered, so it is skipped
      unknown.Set(unknown_count++, Napi::String::New(env, name));
      continue;
    }
    if (action == default_action) continue;
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<scmp_arg_cmp> cmps;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object arg = args.Get(j).As<Napi::Object>();
      scmp_arg_cmp cmp{};
      cmp.arg = arg.Get("index").ToNumber().Uint32Value();
      cmp.op = static_cast<scmp_compare>(arg.Get("op").ToNumber().Uint32Value());
      cmp.datum_a = ToU64(arg.Get("value"));
      cmp.datum_b = ToU64(arg.Get("valueTwo"));
      cmps.push_back(cmp);
    }
    rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned int>(cmps.size()),
                                cmps.empty() ? nullptr : cmps.data());
    if (rc < 0) throw SystemError(env, rc, "seccomp_rule_add " + name);
  }

  std::vector<uint8_t> bytes = ExportBpf(env, ctx.get());
  Napi::Object out = Napi::Object::New(env);
  out.Set("filter", Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size()));
  out.Set("unknown", unknown);
  return out;
}

}  // namespace spo
