// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#ifndef NATIVE_SRC_SECCOMP_FILTER_H_
#define NATIVE_SRC_SECCOMP_FILTER_H_

#include <napi.h>

namespace spo {

// compileSeccomp(spec) -> { filter: Buffer (struct sock_filter[]), unknown: string[] }.
// The filter is installed by helper/spo_exec.c right before execve, so the Node process
// itself never runs under it.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info);

}  // namespace spo

#endif  // NATIVE_SRC_SECCOMP_FILTER_H_
