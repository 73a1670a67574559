{
  "targets": [
    {
      "target_name": "spo_recorder",
      "sources": [
        "src/addon.cc",
        "src/recorder.cc",
        "src/seccomp_filter.cc",
        "src/system_error.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../bpf/.output"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["<!@(pkg-config --libs libbpf libseccomp)"]
    },
    {
      "target_name": "spo-exec",
      "type": "executable",
      "sources": ["helper/spo_exec.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
