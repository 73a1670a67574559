// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#include "recorder.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>

#include <cstring>
#include <string>
#include <vector>

#include "system_error.h"

// The ABI header from bpf/ and the generated skeleton (embeds the object: no runtime path).
#include "../../bpf/recorder.h"
#include "recorder.skel.h"

namespace spo {
namespace {

// the kernel-internal ENOTSUPP leaks out of the bpf syscall; userspace headers lack it
constexpr int kEnotsupp = 524;
constexpr size_t kBitmapBytes = RECORDER_SYSCALL_WORDS * sizeof(__u64);

Napi::Object EntryToJs(Napi::Env env, __u32 mntns, const recorder_entry& entry) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("mntns", Napi::Number::New(env, mntns));
  out.Set("nsId", Napi::Number::New(env, static_cast<double>(entry.ns_id)));
  out.Set("flags", Napi::Number::New(env, static_cast<double>(entry.flags)));
  const auto* bytes = reinterpret_cast<const uint8_t*>(entry.bits);
  out.Set("native", Napi::Buffer<uint8_t>::Copy(env, bytes, kBitmapBytes));
  out.Set("compat", Napi::Buffer<uint8_t>::Copy(env, bytes + kBitmapBytes, kBitmapBytes));
  return out;
}

__u32 MntnsArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "mntns must be a number");
  }
  return info[index].As<Napi::Number>().Uint32Value();
}

}  // namespace

Napi::Function Recorder::GetClass(Napi::Env env) {
  return DefineClass(env, "Recorder",
                     {
                         InstanceMethod("open", &Recorder::Open),
                         InstanceMethod("attach", &Recorder::Attach),
                         InstanceMethod("detach", &Recorder::Detach),
                         InstanceMethod("drain", &Recorder::Drain),
                         InstanceMethod("include", &Recorder::Include),
                         InstanceMethod("exclude", &Recorder::Exclude),
                         InstanceMethod("forget", &Recorder::Forget),
                         InstanceMethod("stats", &Recorder::Stats),
                         InstanceMethod("info", &Recorder::Info),
                         InstanceMethod("close", &Recorder::Close),
                     });
}

Recorder::Recorder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Recorder>(info) {}

Recorder::~Recorder() { CloseHandles(); }

void Recorder::CloseHandles() {
  if (link_ != nullptr) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  if (skel_ != nullptr) {
    recorder_bpf__destroy(skel_);
    skel_ = nullptr;
  }
  prog_ = nullptr;
}

void Recorder::RequireOpen(Napi::Env env) const {
  if (skel_ == nullptr) throw SystemError(env, EBADF, "recorder not open");
}

// open({ listedOnly, hostMntns, maxMntns, program: 'btf' | 'raw' | 'floor', btfPath? })
Napi::Value Recorder::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (skel_ != nullptr) throw SystemError(env, EALREADY, "recorder already open");
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  bool listed_only = opts.Get("listedOnly").ToBoolean();
  __u32 host_mntns = opts.Get("hostMntns").ToNumber().Uint32Value();
  __u32 max_mntns = opts.Get("maxMntns").ToNumber().Uint32Value();
  std::string program = opts.Get("program").ToString();
  std::string btf_path;
  if (opts.Get("btfPath").IsString()) btf_path = opts.Get("btfPath").As<Napi::String>();

  ClearLibbpfLog();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (!btf_path.empty()) open_opts.btf_custom_path = btf_path.c_str();
  recorder_bpf* skel = recorder_bpf__open_opts(&open_opts);
  if (skel == nullptr) throw SystemError(env, errno, "bpf_object__open");

  skel->rodata->host_mntns = host_mntns;
  skel->rodata->listed_only = listed_only;
  bpf_program* chosen = nullptr;
  if (program == "btf") {
    chosen = skel->progs.spo_rec_btf;
  } else if (program == "raw") {
    chosen = skel->progs.spo_rec_raw;
  } else if (program == "floor") {
    chosen = skel->progs.spo_rec_floor;
  } else {
    recorder_bpf__destroy(skel);
    throw Napi::TypeError::New(env, "program must be btf, raw or floor");
  }
  bpf_program* all[] = {skel->progs.spo_rec_btf, skel->progs.spo_rec_raw, skel->progs.spo_rec_floor};
  int err = 0;
  for (bpf_program* prog : all) {
    if (err == 0) err = bpf_program__set_autoload(prog, prog == chosen);
  }
  if (err == 0 && max_mntns > 0) {
    err = bpf_map__set_max_entries(skel->maps.mntns_syscalls, max_mntns);
    if (err == 0) err = bpf_map__set_max_entries(skel->maps.filter_mntns, max_mntns);
  }
  if (err != 0) {
    recorder_bpf__destroy(skel);
    throw SystemError(env, err, "bpf_object__open");
  }
  err = recorder_bpf__load(skel);
  if (err != 0) {
    recorder_bpf__destroy(skel);
    throw SystemError(env, err, "bpf_object__load");
  }
  skel_ = skel;
  prog_ = chosen;
  listed_only_ = listed_only;
  return env.Undefined();
}

Napi::Value Recorder::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (link_ != nullptr) return env.Undefined();
  ClearLibbpfLog();
  bpf_link* link = bpf_program__attach(prog_);
  if (link == nullptr) throw SystemError(env, errno, "bpf_program__attach");
  link_ = link;
  return env.Undefined();
}

Napi::Value Recorder::Detach(const Napi::CallbackInfo& info) {
  if (link_ != nullptr) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  return info.Env().Undefined();
}

// drain(mntns?): lookup-and-delete, so a syscall recorded during the drain lands either in
// this result or in the next entry the program creates, never in between.
Napi::Value Recorder::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (info.Length() == 0 || info[0].IsUndefined()) {
    return batch_supported_ ? DrainAll(env) : DrainAllOneByOne(env);
  }
  __u32 key = MntnsArg(info, 0);
  recorder_entry entry;
  int fd = bpf_map__fd(skel_->maps.mntns_syscalls);
  Napi::Array out = Napi::Array::New(env);
  int err = bpf_map_lookup_and_delete_elem(fd, &key, &entry);
  if (err != 0 && (errno == EINVAL || errno == kEnotsupp || errno == EOPNOTSUPP)) {
    // hash maps gained lookup-and-delete in 5.14; before, a racy read-then-delete is all there is
    err = bpf_map_lookup_elem(fd, &key, &entry);
    if (err == 0) bpf_map_delete_elem(fd, &key);
  }
  if (err != 0) {
    if (errno == ENOENT) return out;
    throw SystemError(env, errno, "bpf_map_lookup_and_delete_elem");
  }
  out.Set(0u, EntryToJs(env, key, entry));
  return out;
}

Napi::Array Recorder::DrainAll(Napi::Env env) {
  int fd = bpf_map__fd(skel_->maps.mntns_syscalls);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  // A hash batch returns whole buckets: ENOSPC means a bucket did not fit, so grow.
  size_t capacity = 256;
  std::vector<__u32> keys;
  std::vector<recorder_entry> values;
  __u32 in_batch = 0;
  __u32 out_batch = 0;
  bool first = true;
  for (;;) {
    keys.resize(capacity);
    values.resize(capacity);
    __u32 count = static_cast<__u32>(capacity);
    LIBBPF_OPTS(bpf_map_batch_opts, batch_opts);
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                              values.data(), &count, &batch_opts);
    int saved = errno;
    for (__u32 i = 0; i < count; i++) out.Set(n++, EntryToJs(env, keys[i], values[i]));
    if (err == 0) {
      in_batch = out_batch;
      first = false;
      continue;
    }
    if (saved == ENOENT) return out;
    if (saved == ENOSPC && count == 0 && capacity < (1u << 20)) {
      capacity *= 2;
      continue;
    }
    if (saved == EINVAL && first && n == 0) {
      batch_supported_ = false;
      return DrainAllOneByOne(env);
    }
    throw SystemError(env, saved, "bpf_map_lookup_and_delete_batch");
  }
}

Napi::Array Recorder::DrainAllOneByOne(Napi::Env env) {
  int fd = bpf_map__fd(skel_->maps.mntns_syscalls);
  std::vector<__u32> keys;
  __u32 key = 0;
  __u32 next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (__u32 k : keys) {
    recorder_entry entry;
    int err = bpf_map_lookup_and_delete_elem(fd, &k, &entry);
    if (err != 0 && errno != ENOENT) {
      err = bpf_map_lookup_elem(fd, &k, &entry);
      if (err == 0) bpf_map_delete_elem(fd, &k);
    }
    if (err == 0) out.Set(n++, EntryToJs(env, k, entry));
  }
  return out;
}

void Recorder::SetFilter(const Napi::CallbackInfo& info, bool listed) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (listed != listed_only_) {
    throw SystemError(env, EINVAL, listed ? "include (recorder records all but excluded)"
                                          : "exclude (recorder records listed only)");
  }
  __u32 key = MntnsArg(info, 0);
  __u8 one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.filter_mntns), &key, &one, BPF_ANY) != 0) {
    throw SystemError(env, errno, "bpf_map_update_elem");
  }
}

Napi::Value Recorder::Include(const Napi::CallbackInfo& info) {
  SetFilter(info, true);
  return info.Env().Undefined();
}

Napi::Value Recorder::Exclude(const Napi::CallbackInfo& info) {
  SetFilter(info, false);
  return info.Env().Undefined();
}

Napi::Value Recorder::Forget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  __u32 key = MntnsArg(info, 0);
  if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.filter_mntns), &key) != 0 && errno != ENOENT) {
    throw SystemError(env, errno, "bpf_map_delete_elem");
  }
  return env.Undefined();
}

Napi::Value Recorder::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw SystemError(env, -cpus, "libbpf_num_possible_cpus");
  std::vector<__u64> per_cpu(static_cast<size_t>(cpus));
  int fd = bpf_map__fd(skel_->maps.recorder_stats);
  __u64 totals[RECORDER_STAT_SLOTS] = {};
  for (__u32 slot = 0; slot < RECORDER_STAT_SLOTS; slot++) {
    if (bpf_map_lookup_elem(fd, &slot, per_cpu.data()) != 0) throw SystemError(env, errno, "bpf_map_lookup_elem");
    for (__u64 v : per_cpu) totals[slot] += v;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("mapFull", Napi::Number::New(env, static_cast<double>(totals[RECORDER_STAT_MAP_FULL])));
  out.Set("resets", Napi::Number::New(env, static_cast<double>(totals[RECORDER_STAT_RESETS])));
  return out;
}

// info(): what is loaded and attached, for tests and diagnostics
Napi::Value Recorder::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("open", Napi::Boolean::New(env, skel_ != nullptr));
  out.Set("attached", Napi::Boolean::New(env, link_ != nullptr));
  if (prog_ != nullptr) {
    struct bpf_prog_info prog_info;
    __u32 len = sizeof(prog_info);
    memset(&prog_info, 0, sizeof(prog_info));
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog_), &prog_info, &len) == 0) {
      out.Set("progId", Napi::Number::New(env, prog_info.id));
    }
    out.Set("program", Napi::String::New(env, bpf_program__name(prog_)));
  }
  return out;
}

Napi::Value Recorder::Close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

}  // namespace spo
