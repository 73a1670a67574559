// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#include "system_error.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace spo {
namespace {

// Verifier logs run to many kilobytes; the tail holds the reason.
constexpr size_t kMaxLog = 4096;
std::string libbpf_log;

int CollectLibbpfMessage(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n <= 0) return n;
  libbpf_log.append(line);
  if (libbpf_log.size() > kMaxLog) libbpf_log.erase(0, libbpf_log.size() - kMaxLog);
  return n;
}

}  // namespace

void InstallLibbpfLogger() { libbpf_set_print(CollectLibbpfMessage); }

void ClearLibbpfLog() { libbpf_log.clear(); }

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "UNKNOWN";
  std::string message = syscall + " " + code + ": " + strerror(err);
  std::string detail = libbpf_log;
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  if (!detail.empty()) message += "\n" + detail;
  ClearLibbpfLog();

  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!detail.empty()) error.Set("detail", Napi::String::New(env, detail));
  return error;
}

}  // namespace spo
