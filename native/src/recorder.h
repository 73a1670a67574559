// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#ifndef NATIVE_SRC_RECORDER_H_
#define NATIVE_SRC_RECORDER_H_

#include <napi.h>

struct recorder_bpf;
struct bpf_link;
struct bpf_program;

namespace spo {

// The eBPF recorder: one loaded object, at most one attached link. Validation and defaults
// live in src/recorder/native.ts; this class only type-checks.
class Recorder : public Napi::ObjectWrap<Recorder> {
 public:
  static Napi::Function GetClass(Napi::Env env);
  explicit Recorder(const Napi::CallbackInfo& info);
  ~Recorder() override;

 private:
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Include(const Napi::CallbackInfo& info);
  Napi::Value Exclude(const Napi::CallbackInfo& info);
  Napi::Value Forget(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env) const;
  void SetFilter(const Napi::CallbackInfo& info, bool listed);
  Napi::Array DrainAll(Napi::Env env);
  Napi::Array DrainAllOneByOne(Napi::Env env);
  void CloseHandles();

  recorder_bpf* skel_ = nullptr;
  bpf_program* prog_ = nullptr;
  bpf_link* link_ = nullptr;
  bool listed_only_ = false;
  // Cleared after the first EINVAL: kernels before 5.6 have no batch ops.
  bool batch_supported_ = true;
};

}  // namespace spo

#endif  // NATIVE_SRC_RECORDER_H_
