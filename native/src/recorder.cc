// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#include "recorder.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <linux/types.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
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
// the mapping indexes records by this size: an array map lays values out every round_up(value_size, 8)
static_assert(sizeof(recorder_drained) % 8 == 0, "recorder_drained must be a multiple of 8 bytes");
// Drains in a row that find a slot empty before it is retired. A namespace that is running sets bits
// again after every drain (each drain clears them), so two empty ones mean idle or gone; an idle one
// that wakes up simply claims a slot again.
constexpr uint8_t kIdleDrains = 2;

// A slot's record as the entry shape the hash map has (its bitmap covers the first native words).
recorder_entry SlotEntry(const recorder_drained& record) {
  recorder_entry entry;
  memset(&entry, 0, sizeof(entry));
  entry.ns_id = record.ns_id;
  entry.flags = record.flags;
  memcpy(entry.bits, record.bits, sizeof(record.bits));
  return entry;
}

bool Empty(const recorder_drained& record) {
  if (record.flags != 0) return false;
  for (__u64 word : record.bits) {
    if (word != 0) return false;
  }
  return true;
}

// Returns once every program run that had started has finished: they run under rcu_read_lock, and
// MEMBARRIER_CMD_GLOBAL is a synchronize_rcu() (on one online CPU the kernel skips it, since no run can
// be in progress while this thread is in the syscall on a non-preemptible kernel). nohz_full kernels
// refuse it: there, slots are never retired (see Recorder::Retires).
bool GracePeriod() { return syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0; }

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

// The links' pins sit beside the maps' (named after the maps) in the recorder's own directory.
constexpr char kLinkPin[] = "link";
constexpr char kExitLinkPin[] = "link-exit";
// the links' programs, pinned beside them: reading a program by its id would take CAP_SYS_ADMIN
constexpr char kProgPin[] = "prog";
constexpr char kExitProgPin[] = "prog-exit";

std::string PinPath(const std::string& dir, const char* name) { return dir + "/" + name; }

// libbpf's own reuse rule (map_is_reuse_compat), checked first so a mismatch replaces the pin
// instead of failing the load.
bool PinnedMapMatches(int fd, const bpf_map* map) {
  struct bpf_map_info info;
  __u32 len = sizeof(info);
  memset(&info, 0, sizeof(info));
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return false;
  return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
         info.value_size == bpf_map__value_size(map) && info.max_entries == bpf_map__max_entries(map) &&
         info.map_flags == bpf_map__map_flags(map) && info.map_extra == bpf_map__map_extra(map);
}

struct PinPlan {
  std::vector<std::string> reused;
  std::vector<std::string> replaced;
  bool all_reused = true;
};

// Points every map of the object at its pin before load, so libbpf reuses a pinned map (and what it
// recorded while no process held it) or pins a new one. Returns 0 or a negative errno.
int PreparePins(bpf_object* obj, const std::string& dir, PinPlan* plan) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    // .rodata/.bss belong to one loaded program: never shared across loads
    if (bpf_map__is_internal(map)) continue;
    std::string path = PinPath(dir, bpf_map__name(map));
    int err = bpf_map__set_pin_path(map, path.c_str());
    if (err != 0) return err;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      plan->all_reused = false;
      if (errno == ENOENT) continue;
      // something that is not a BPF object of ours sits where the pin goes
      if (unlink(path.c_str()) != 0 && errno != ENOENT) return -errno;
      plan->replaced.push_back(bpf_map__name(map));
      continue;
    }
    bool matches = PinnedMapMatches(fd, map);
    close(fd);
    if (matches) {
      plan->reused.push_back(bpf_map__name(map));
      continue;
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return -errno;
    plan->replaced.push_back(bpf_map__name(map));
    plan->all_reused = false;
  }
  return 0;
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, values[i]));
  return out;
}

// Whether a pinned link runs the program pinned at `prog_pin`, and that is the very code this process loaded as
// `prog`: the kernel's tag hashes a program's instructions (map references left out), so another build's
// program, or another program of this object, has another tag. (Not what its .rodata holds: the host's
// namespace, and the mode, which the node recorder never changes across restarts.)
bool RunsProgram(bpf_link* link, const std::string& prog_pin, bpf_program* prog) {
  bpf_link_info link_info;
  __u32 len = sizeof(link_info);
  memset(&link_info, 0, sizeof(link_info));
  if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &link_info, &len) != 0) return false;
  int fd = bpf_obj_get(prog_pin.c_str());
  if (fd < 0) return false;
  bpf_prog_info pinned, ours;
  memset(&pinned, 0, sizeof(pinned));
  memset(&ours, 0, sizeof(ours));
  len = sizeof(pinned);
  int err = bpf_obj_get_info_by_fd(fd, &pinned, &len);
  close(fd);
  if (err != 0 || pinned.id != link_info.prog_id) return false;
  len = sizeof(ours);
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &ours, &len) != 0) return false;
  return memcmp(pinned.tag, ours.tag, sizeof(ours.tag)) == 0;
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
  UnmapSlots();
  DestroyLinks(false);
  if (skel_ != nullptr) {
    recorder_bpf__destroy(skel_);
    skel_ = nullptr;
  }
  prog_ = nullptr;
  exit_prog_ = nullptr;
}

// Pinned links stay attached (only the pins hold them then); unpinned ones detach here. sys_enter goes
// first: spo_rec_btf must never run while spo_rec_exit no longer sees tasks exit.
// (A process killed with both links unpinned lets the kernel close them in its own order; that happens
// only without a pin directory, where the maps go with the process and nobody reads what they hold.)
void Recorder::DestroyLinks(bool unpin) {
  for (bpf_link** link : {&link_, &exit_link_}) {
    if (*link == nullptr) continue;
    if (unpin) bpf_link__unpin(*link);
    bpf_link__destroy(*link);
    *link = nullptr;
  }
}

void Recorder::RequireOpen(Napi::Env env) const {
  if (skel_ == nullptr) throw SystemError(env, EBADF, "recorder not open");
}

// open({ listedOnly, hostMntns, maxMntns, program: 'btf' | 'raw' | 'floor' | 'task', btfPath?, pinDir? })
// -> { adopted, reusedMaps, replacedMaps, droppedLink }
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
  std::string pin_dir;
  if (opts.Get("pinDir").IsString()) pin_dir = opts.Get("pinDir").As<Napi::String>();

  ClearLibbpfLog();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (!btf_path.empty()) open_opts.btf_custom_path = btf_path.c_str();
  recorder_bpf* skel = recorder_bpf__open_opts(&open_opts);
  if (skel == nullptr) throw SystemError(env, errno, "bpf_object__open");

  skel->rodata->host_mntns = host_mntns;
  skel->rodata->listed_only = listed_only;
  int cpus = libbpf_num_possible_cpus();
  bpf_program* chosen = nullptr;
  if (program == "btf") {
    chosen = skel->progs.spo_rec_btf;
  } else if (program == "raw") {
    chosen = skel->progs.spo_rec_raw;
  } else if (program == "floor") {
    chosen = skel->progs.spo_rec_floor;
  } else if (program == "task") {
    chosen = skel->progs.spo_rec_task;
  } else {
    recorder_bpf__destroy(skel);
    throw Napi::TypeError::New(env, "program must be btf, raw, floor or task");
  }
  bpf_program* with = chosen == skel->progs.spo_rec_btf ? skel->progs.spo_rec_exit : nullptr;
  bpf_program* all[] = {skel->progs.spo_rec_btf, skel->progs.spo_rec_raw, skel->progs.spo_rec_floor,
                        skel->progs.spo_rec_task, skel->progs.spo_rec_exit};
  int err = 0;
  for (bpf_program* prog : all) {
    if (err == 0) err = bpf_program__set_autoload(prog, prog == chosen || prog == with);
  }
  if (cpus <= 0) err = cpus < 0 ? cpus : -EINVAL;
  if (err == 0) err = bpf_map__set_max_entries(skel->maps.recorder_cpu, static_cast<__u32>(cpus));
  if (err == 0 && max_mntns > 0) {
    err = bpf_map__set_max_entries(skel->maps.mntns_syscalls, max_mntns);
    if (err == 0) err = bpf_map__set_max_entries(skel->maps.filter_mntns, max_mntns);
  }
  if (err != 0) {
    recorder_bpf__destroy(skel);
    throw SystemError(env, err, "bpf_object__open");
  }
  PinPlan plan;
  if (!pin_dir.empty()) {
    err = PreparePins(skel->obj, pin_dir, &plan);
    if (err != 0) {
      recorder_bpf__destroy(skel);
      throw SystemError(env, err, "bpf_map__set_pin_path");
    }
  }
  err = recorder_bpf__load(skel);
  if (err != 0) {
    recorder_bpf__destroy(skel);
    throw SystemError(env, err, "bpf_object__load");
  }
  skel_ = skel;
  prog_ = chosen;
  exit_prog_ = with;
  listed_only_ = listed_only;
  pin_dir_ = pin_dir;
  bool adopted = false;
  bool dropped_link = false;
  if (!pin_dir_.empty()) {
    // The pinned links' programs write into the maps pinned beside them: adopt them only when every one
    // of those was reused, else they record into maps nobody reads any more.
    if (plan.all_reused) adopted = AdoptLinks();
    if (!adopted) {
      // sys_enter's pin first: removing the last reference detaches it (see DestroyLinks)
      for (const char* name : {kLinkPin, kExitLinkPin}) {
        if (unlink(PinPath(pin_dir_, name).c_str()) == 0) dropped_link = true;
      }
      // pins exist only while a program records into them (see PinAll)
      RemovePins();
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("adopted", Napi::Boolean::New(env, adopted));
  out.Set("reusedMaps", Strings(env, plan.reused));
  out.Set("replacedMaps", Strings(env, plan.replaced));
  out.Set("droppedLink", Napi::Boolean::New(env, dropped_link));
  return out;
}

bool Recorder::AdoptLinks() {
  // Only links running this build's programs: the maps matching says nothing of what a program does with
  // them, and the programs and this process's spo_rec_drain must keep one protocol (e.g. closing a slot
  // bumps the cache's epoch, which spo_rec_btf relies on).
  bpf_link* link = bpf_link__open(PinPath(pin_dir_, kLinkPin).c_str());
  if (link == nullptr) return false;
  bpf_link* exit_link = nullptr;
  bool same = RunsProgram(link, PinPath(pin_dir_, kProgPin), prog_);
  if (same && exit_prog_ != nullptr) {
    exit_link = bpf_link__open(PinPath(pin_dir_, kExitLinkPin).c_str());
    same = exit_link != nullptr && RunsProgram(exit_link, PinPath(pin_dir_, kExitProgPin), exit_prog_);
  }
  if (!same) {
    // only closes them: the pins still hold them until Open removes those
    bpf_link__destroy(link);
    if (exit_link != nullptr) bpf_link__destroy(exit_link);
    return false;
  }
  link_ = link;
  exit_link_ = exit_link;
  return true;
}

int Recorder::ClearCpuCache() {
  recorder_cpu empty;
  memset(&empty, 0, sizeof(empty));
  int fd = bpf_map__fd(skel_->maps.recorder_cpu);
  for (__u32 cpu = 0; cpu < bpf_map__max_entries(skel_->maps.recorder_cpu); cpu++) {
    if (bpf_map_update_elem(fd, &cpu, &empty, BPF_ANY) != 0) return -errno;
  }
  return 0;
}

int Recorder::PinAll() {
  bpf_map* map;
  bpf_object__for_each_map(map, skel_->obj) {
    if (bpf_map__is_internal(map) || bpf_map__is_pinned(map)) continue;
    // a stale pin of the same name (another process, an older version) would make pinning fail
    if (bpf_map__pin_path(map) != nullptr) unlink(bpf_map__pin_path(map));
    int err = bpf_map__pin(map, nullptr);
    if (err != 0) return err;
  }
  // the programs first: a link pinned without its program is not adopted (AdoptLinks)
  for (const auto& [prog, name] : {std::pair{prog_, kProgPin}, std::pair{exit_prog_, kExitProgPin}}) {
    if (prog == nullptr) continue;
    std::string path = PinPath(pin_dir_, name);
    unlink(path.c_str());
    if (bpf_obj_pin(bpf_program__fd(prog), path.c_str()) != 0) return -errno;
  }
  // the sched_process_exit link first: pinned alone it only bumps the cache's epoch, while sys_enter's pinned
  // alone would not be kept honest once this process is gone
  if (exit_link_ != nullptr) {
    std::string exit_path = PinPath(pin_dir_, kExitLinkPin);
    unlink(exit_path.c_str());
    int err = bpf_link__pin(exit_link_, exit_path.c_str());
    if (err != 0) return err;
  }
  std::string link_path = PinPath(pin_dir_, kLinkPin);
  unlink(link_path.c_str());
  return bpf_link__pin(link_, link_path.c_str());
}

// Unpins every map and removes whatever else is left in the recorder's directory: pins of maps an
// older version had, and a link no process holds.
void Recorder::RemovePins() {
  if (skel_ != nullptr) {
    bpf_map* map;
    bpf_object__for_each_map(map, skel_->obj) {
      if (!bpf_map__is_internal(map) && bpf_map__is_pinned(map)) bpf_map__unpin(map, nullptr);
    }
  }
  DIR* dir = opendir(pin_dir_.c_str());
  if (dir == nullptr) return;
  while (struct dirent* entry = readdir(dir)) {
    std::string path = PinPath(pin_dir_, entry->d_name);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) unlink(path.c_str());
  }
  closedir(dir);
}

Napi::Value Recorder::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (link_ != nullptr) return env.Undefined();
  ClearLibbpfLog();
  // The cache's order (see spo_rec_btf): sched_process_exit attached, then what an earlier attachment left
  // in the cache cleared, and only then sys_enter, which alone fills it.
  if (exit_prog_ != nullptr && exit_link_ == nullptr) {
    bpf_link* link = bpf_program__attach(exit_prog_);
    if (link == nullptr) throw SystemError(env, errno, "bpf_program__attach");
    exit_link_ = link;
  }
  if (exit_prog_ != nullptr) {
    int err = ClearCpuCache();
    if (err != 0) {
      DestroyLinks(false);
      throw SystemError(env, err, "bpf_map_update_elem");
    }
  }
  bpf_link* link = bpf_program__attach(prog_);
  if (link == nullptr) {
    int err = errno;
    DestroyLinks(false);
    throw SystemError(env, err, "bpf_program__attach");
  }
  link_ = link;
  if (!pin_dir_.empty()) {
    int err = PinAll();
    if (err != 0) {
      RemovePins();
      DestroyLinks(false);
      throw SystemError(env, err, "bpf_obj_pin");
    }
  }
  return env.Undefined();
}

// Nothing left to record: the pins go too, so the program is gone once this process lets go of it.
Napi::Value Recorder::Detach(const Napi::CallbackInfo& info) {
  DestroyLinks(!pin_dir_.empty());
  if (!pin_dir_.empty()) RemovePins();
  return info.Env().Undefined();
}

// drain(mntns?): the namespace's slot is read and cleared word by word, its hash entry (or every
// entry) taken with lookup-and-delete, so a syscall recorded during the drain lands either in this
// result or in what the next drain finds, never in between. A namespace can show up twice (slot and
// hash entry): callers union.
Napi::Value Recorder::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  if (info.Length() == 0 || info[0].IsUndefined()) {
    // the hash map first: the order the runtime-start mark relies on (record_slot in bpf/recorder.bpf.c)
    if (batch_supported_) {
      DrainAll(env, out, &n);
    } else {
      DrainAllOneByOne(env, out, &n);
    }
    DrainSlots(env, out, &n, true, 0);
    return out;
  }
  __u32 key = MntnsArg(info, 0);
  recorder_entry entry;
  int fd = bpf_map__fd(skel_->maps.mntns_syscalls);
  int err = bpf_map_lookup_and_delete_elem(fd, &key, &entry);
  if (err != 0 && (errno == EINVAL || errno == kEnotsupp || errno == EOPNOTSUPP)) {
    // hash maps gained lookup-and-delete in 5.14; before, a racy read-then-delete is all there is
    err = bpf_map_lookup_elem(fd, &key, &entry);
    if (err == 0) bpf_map_delete_elem(fd, &key);
  }
  if (err != 0 && errno != ENOENT) throw SystemError(env, errno, "bpf_map_lookup_and_delete_elem");
  if (err == 0) out.Set(n++, EntryToJs(env, key, entry));
  DrainSlots(env, out, &n, false, key);
  return out;
}

void Recorder::DrainAll(Napi::Env env, Napi::Array out, uint32_t* n) {
  int fd = bpf_map__fd(skel_->maps.mntns_syscalls);
  uint32_t first_n = *n;
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
    for (__u32 i = 0; i < count; i++) out.Set((*n)++, EntryToJs(env, keys[i], values[i]));
    if (err == 0) {
      in_batch = out_batch;
      first = false;
      continue;
    }
    if (saved == ENOENT) return;
    if (saved == ENOSPC && count == 0 && capacity < (1u << 20)) {
      capacity *= 2;
      continue;
    }
    if (saved == EINVAL && first && *n == first_n) {
      batch_supported_ = false;
      DrainAllOneByOne(env, out, n);
      return;
    }
    throw SystemError(env, saved, "bpf_map_lookup_and_delete_batch");
  }
}

void Recorder::DrainAllOneByOne(Napi::Env env, Napi::Array out, uint32_t* n) {
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
  for (__u32 k : keys) {
    recorder_entry entry;
    int err = bpf_map_lookup_and_delete_elem(fd, &k, &entry);
    if (err != 0 && errno != ENOENT) {
      err = bpf_map_lookup_elem(fd, &k, &entry);
      if (err == 0) bpf_map_delete_elem(fd, &k);
    }
    if (err == 0) out.Set((*n)++, EntryToJs(env, k, entry));
  }
}

// Runs spo_rec_drain (see bpf/recorder.bpf.c) and returns its result.
uint32_t Recorder::RunDrain(Napi::Env env, uint64_t op, uint64_t arg, uint64_t arg2) {
  __u64 args[3] = {op, arg, arg2};
  LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof(args));
  if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.spo_rec_drain), &run) != 0) {
    throw SystemError(env, errno, "bpf_prog_test_run");
  }
  return run.retval;
}

// Maps recorder_drained, spo_rec_drain's output, on first use.
const recorder_drained* Recorder::Drained(Napi::Env env) {
  if (drained_ != nullptr) return drained_;
  bpf_map* map = skel_->maps.recorder_drained;
  if (bpf_map__value_size(map) != sizeof(recorder_drained) || bpf_map__max_entries(map) != RECORDER_SLOTS) {
    throw SystemError(env, EINVAL, "recorder_drained does not match bpf/recorder.h");
  }
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t bytes = (sizeof(recorder_drained) * RECORDER_SLOTS + page - 1) / page * page;
  void* mem = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, bpf_map__fd(map), 0);
  if (mem == MAP_FAILED) throw SystemError(env, errno, "mmap recorder_drained");
  drained_ = static_cast<const recorder_drained*>(mem);
  drained_bytes_ = bytes;
  slot_idle_.assign(RECORDER_SLOTS, 0);
  // an earlier process (pinned maps) may have closed slots and not freed them
  closed_pending_ = true;
  return drained_;
}

void Recorder::UnmapSlots() {
  if (drained_ != nullptr) munmap(const_cast<recorder_drained*>(drained_), drained_bytes_);
  drained_ = nullptr;
  drained_bytes_ = 0;
}

// Whether slots may be taken from their namespace: only with a grace period to wait for (membarrier).
// Without, a claimed slot stays its namespace's until the map goes; the others use the hash map.
bool Recorder::Retires() {
  if (retires_ < 0) {
    long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    retires_ = cmds >= 0 && (cmds & MEMBARRIER_CMD_GLOBAL) != 0 ? 1 : 0;
  }
  return retires_ == 1;
}

// Every slot's owner and inode number, read in one batch (a copy, not atomic): which slots are worth
// a run of spo_rec_drain. Its bits are not used: they are taken by the program.
std::vector<std::pair<__u32, recorder_slot>> Recorder::SlotSnapshot(Napi::Env env) {
  int fd = bpf_map__fd(skel_->maps.recorder_slots);
  std::vector<__u32> keys(RECORDER_SLOTS);
  std::vector<recorder_slot> values(RECORDER_SLOTS);
  __u32 count = RECORDER_SLOTS;
  __u32 out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, batch_opts);
  int err = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), values.data(), &count, &batch_opts);
  if (err != 0 && errno != ENOENT) throw SystemError(env, errno, "bpf_map_lookup_batch");
  std::vector<std::pair<__u32, recorder_slot>> out;
  for (__u32 i = 0; i < count && i < RECORDER_SLOTS; i++) {
    if (values[i].owner != 0 && keys[i] < RECORDER_SLOTS) out.emplace_back(keys[i], values[i]);
  }
  return out;
}

// Takes what every claimed slot (all) or the one of `only` holds; with all, closes the slots idle for
// kIdleDrains drains in a row. Then frees the closed ones.
void Recorder::DrainSlots(Napi::Env env, Napi::Array out, uint32_t* n, bool all, uint32_t only) {
  const recorder_drained* records = Drained(env);
  for (const auto& [slot, seen] : SlotSnapshot(env)) {
    if ((seen.owner & RECORDER_SLOT_CLOSED) != 0) {
      closed_pending_ = true;
      continue;
    }
    if (seen.inum == 0 || (!all && seen.inum != only)) continue;
    if (RunDrain(env, RECORDER_DRAIN_TAKE, slot, 0) != 1) continue;
    const recorder_drained& record = records[slot];
    if (!Empty(record)) {
      slot_idle_[slot] = 0;
      out.Set((*n)++, EntryToJs(env, record.inum, SlotEntry(record)));
    } else if (all && Retires() && ++slot_idle_[slot] >= kIdleDrains) {
      if (RunDrain(env, RECORDER_DRAIN_CLOSE, slot, record.ns_id) == 1) closed_pending_ = true;
    }
  }
  FreeClosed(env, &out, n, all, only);
}

// Closes the slots of a namespace (Exclude, Forget): the program stops matching them at once; what
// they hold is taken when they are freed.
void Recorder::CloseSlotsOf(Napi::Env env, uint32_t mntns) {
  Drained(env);
  if (!Retires()) return;
  for (const auto& [slot, seen] : SlotSnapshot(env)) {
    if ((seen.owner & RECORDER_SLOT_CLOSED) != 0 || seen.inum != mntns) continue;
    if (RunDrain(env, RECORDER_DRAIN_CLOSE, slot, seen.owner) == 1) closed_pending_ = true;
  }
}

// After a grace period no program run still writes into a closed slot: take its last bits (into `out`,
// or nowhere when null) and free it. `only`: just that namespace's, and the others stay pending.
void Recorder::FreeClosed(Napi::Env env, Napi::Array* out, uint32_t* n, bool all, uint32_t only) {
  if (!closed_pending_ || !Retires()) return;
  if (!GracePeriod()) throw SystemError(env, errno, "membarrier");
  bool left = false;
  for (const auto& [slot, seen] : SlotSnapshot(env)) {
    if ((seen.owner & RECORDER_SLOT_CLOSED) == 0) continue;
    if (!all && seen.inum != only) {
      left = true;
      continue;
    }
    if (RunDrain(env, RECORDER_DRAIN_FREE, slot, 0) != 1) continue;
    const recorder_drained& record = drained_[slot];
    slot_idle_[slot] = 0;
    if (out != nullptr && record.inum != 0 && !Empty(record)) {
      out->Set((*n)++, EntryToJs(env, record.inum, SlotEntry(record)));
    }
  }
  closed_pending_ = left;
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

// The program reads the filter only when a namespace gets its slot or entry, so what it already has is
// removed after the filter changes. Race: a syscall that passed the filter just before the update can
// still create an entry or claim a slot just after this; the recorder excludes before attaching.
Napi::Value Recorder::Exclude(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SetFilter(info, false);
  __u32 key = MntnsArg(info, 0);
  CloseSlotsOf(env, key);
  FreeClosed(env, nullptr, nullptr, false, key);
  if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.mntns_syscalls), &key) != 0 && errno != ENOENT) {
    throw SystemError(env, errno, "bpf_map_delete_elem");
  }
  return env.Undefined();
}

Napi::Value Recorder::Forget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  __u32 key = MntnsArg(info, 0);
  if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.filter_mntns), &key) != 0 && errno != ENOENT) {
    throw SystemError(env, errno, "bpf_map_delete_elem");
  }
  // No new slot or entry for it from here on; the caller's next drain takes what it left (its hash
  // entry, and its slot once closed and past a grace period). The race of Exclude applies.
  CloseSlotsOf(env, key);
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

namespace {

// the kernel's id of a loaded program (bpftool, /proc/<pid>/fdinfo), or 0
__u32 ProgId(const bpf_program* prog) {
  struct bpf_prog_info prog_info;
  __u32 len = sizeof(prog_info);
  memset(&prog_info, 0, sizeof(prog_info));
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &prog_info, &len) != 0) return 0;
  return prog_info.id;
}

}  // namespace

// info(): what is loaded and attached, for tests and diagnostics
Napi::Value Recorder::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("open", Napi::Boolean::New(env, skel_ != nullptr));
  out.Set("attached", Napi::Boolean::New(env, link_ != nullptr));
  if (prog_ != nullptr) {
    if (__u32 id = ProgId(prog_)) out.Set("progId", Napi::Number::New(env, id));
    out.Set("program", Napi::String::New(env, bpf_program__name(prog_)));
  }
  if (exit_prog_ != nullptr) {
    if (__u32 id = ProgId(exit_prog_)) out.Set("exitProgId", Napi::Number::New(env, id));
  }
  return out;
}

Napi::Value Recorder::Close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

}  // namespace spo
