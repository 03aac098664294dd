/* Keeping one CPU free of the process's background threads, for the JS thread.
 *
 * On the project's VMs the guest scheduler packs runnable threads onto few vCPUs: the JS thread,
 * runnable, was measured waiting 1-4 ms behind V8's concurrent compiler (TurboFan) or GC helper on
 * one vCPU while the other vCPU idled (ftrace sched_switch; docs/benchmarks.md). So the threads that
 * exist when the addon loads, but the JS thread (V8's platform workers: its compiler and GC helpers),
 * may run on every allowed CPU but the first. The JS thread itself is not pinned: it keeps every
 * CPU, and so do the processes it spawns. libuv workers keep (or, if they existed at load, get back
 * on their first job) every CPU: under load they do the kernel work of many attaches in parallel,
 * and confining them cost ~15% of the throughput with 100 attaches in flight. Nothing happens when
 * fewer than two CPUs are allowed, or with SWITCHYARD_CPU_SPLIT=0 in the environment. */
#include "common.h"

#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static cpu_set_t all, background;
static int split;
static __thread int restricted;

void cpu_split_init(void) {
  const char *setting = getenv("SWITCHYARD_CPU_SPLIT");
  if (setting && strcmp(setting, "0") == 0) return;
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof(mine), &mine) != 0 || CPU_COUNT(&mine) < 2) return;
  all = mine;
  background = mine;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &background)) {
      CPU_CLR(cpu, &background);
      break;
    }
  }
  split = 1;
  pid_t self = (pid_t)syscall(SYS_gettid);
  DIR *tasks = opendir("/proc/self/task");
  if (!tasks) return;
  struct dirent *entry;
  while ((entry = readdir(tasks)) != NULL) {
    pid_t tid = (pid_t)atoi(entry->d_name);
    if (tid > 0 && tid != self) sched_setaffinity(tid, sizeof(background), &background);
  }
  closedir(tasks);
}

void cpu_split_worker(void) {
  if (!split || restricted) return;
  restricted = 1;
  sched_setaffinity(0, sizeof(all), &all);
}
