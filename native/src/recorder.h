// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#ifndef NATIVE_SRC_RECORDER_H_
#define NATIVE_SRC_RECORDER_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct recorder_bpf;
struct recorder_drained;
struct recorder_slot;
struct bpf_link;
struct bpf_program;

namespace spo {

// The eBPF recorder: one loaded object; attached, one link on sys_enter and, for the BTF program, one on
// sched_process_exit (spo_rec_exit, which keeps its per-CPU namespace cache honest). Validation and defaults
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
  void DrainAll(Napi::Env env, Napi::Array out, uint32_t* n);
  void DrainAllOneByOne(Napi::Env env, Napi::Array out, uint32_t* n);
  // recorder_slots, drained through spo_rec_drain into recorder_drained (see bpf/recorder.bpf.c)
  uint32_t RunDrain(Napi::Env env, uint64_t op, uint64_t arg, uint64_t arg2);
  const recorder_drained* Drained(Napi::Env env);
  void UnmapSlots();
  bool Retires();
  std::vector<std::pair<uint32_t, recorder_slot>> SlotSnapshot(Napi::Env env);
  void DrainSlots(Napi::Env env, Napi::Array out, uint32_t* n, bool all, uint32_t only);
  void CloseSlotsOf(Napi::Env env, uint32_t mntns);
  void FreeClosed(Napi::Env env, Napi::Array* out, uint32_t* n, bool all, uint32_t only);
  void CloseHandles();
  // Pinning (open's pinDir): maps and the link live in bpffs while attached, so the program keeps
  // recording while no process holds it, and the next open picks both up again.
  int PinAll();
  void RemovePins();
  // Opens the pinned links for adoption: all of them or none. Returns whether it did.
  bool AdoptLinks();
  // Empties recorder_cpu on every CPU (see Attach).
  int ClearCpuCache();
  // Destroys the links in the order that keeps the cache honest: sys_enter first, then sched_process_exit.
  void DestroyLinks(bool unpin);

  recorder_bpf* skel_ = nullptr;
  bpf_program* prog_ = nullptr;
  bpf_link* link_ = nullptr;
  // spo_rec_exit and its link: only with the BTF program, which caches per CPU
  bpf_program* exit_prog_ = nullptr;
  bpf_link* exit_link_ = nullptr;
  bool listed_only_ = false;
  // Cleared after the first EINVAL: kernels before 5.6 have no batch ops.
  bool batch_supported_ = true;
  const recorder_drained* drained_ = nullptr;
  size_t drained_bytes_ = 0;
  // drains in a row that found a slot empty: its namespace is idle or gone, so the slot is retired
  std::vector<uint8_t> slot_idle_;
  // some slot may be closed and waiting to be freed
  bool closed_pending_ = true;
  // -1 unknown, else whether membarrier gives grace periods (Retires)
  int retires_ = -1;
  // Empty: nothing is pinned (the local CLI), so a dead process leaves nothing attached.
  std::string pin_dir_;
};

}  // namespace spo

#endif  // NATIVE_SRC_RECORDER_H_
