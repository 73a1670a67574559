// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#ifndef NATIVE_SRC_SYSTEM_ERROR_H_
#define NATIVE_SRC_SYSTEM_ERROR_H_

#include <napi.h>

#include <string>

namespace spo {

// Routes libbpf's diagnostics into a buffer so the next error can carry them.
void InstallLibbpfLogger();
void ClearLibbpfLog();

// An Error shaped like Node's own system errors: code ("EPERM"), errno (negative), syscall,
// plus libbpf's last messages, which usually say more than strerror.
Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall);

}  // namespace spo

#endif  // NATIVE_SRC_SYSTEM_ERROR_H_
