// Copyright The seccomp-profiles-operator Authors. SPDX-License-Identifier: Apache-2.0
#include <napi.h>

#include "recorder.h"
#include "seccomp_filter.h"
#include "system_error.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  spo::InstallLibbpfLogger();
  exports.Set("Recorder", spo::Recorder::GetClass(env));
  exports.Set("compileSeccomp", Napi::Function::New(env, spo::CompileSeccomp, "compileSeccomp"));
  return exports;
}

}  // namespace

NODE_API_MODULE(spo_recorder, Init)
