// SPDX-License-Identifier: Apache-2.0
// Prints libseccomp's syscall table for one architecture as "number name" lines, so the names in our tables are
// exactly the ones runtimes (which resolve names through libseccomp) accept.
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s x86_64|aarch64\n", argv[0]);
    return 2;
  }
  uint32_t arch = seccomp_arch_resolve_name(argv[1]);
  if (arch == 0) {
    fprintf(stderr, "libseccomp does not know architecture %s\n", argv[1]);
    return 1;
  }
  // Native syscall numbers on both architectures stay below 1024; x32's offset numbers are not ours.
  for (int nr = 0; nr < 1024; nr++) {
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name != NULL) {
      printf("%d %s\n", nr, name);
      free(name);
    }
  }
  return 0;
}
