/* yard-nsexec: run a command inside a sandbox the way `ip netns exec` does.
 *
 *   yard-nsexec NSPATH NAME CMD [ARG...]
 *
 * Enters the network namespace at NSPATH, takes a private mount namespace (slave to the host's, so
 * nothing leaks back), mounts a sysfs that shows the sandbox's devices on /sys, and bind-mounts
 * every file of /etc/netns/NAME over its twin in /etc (NAME "-" skips this). Then execs CMD.
 * Exit status: CMD's own, or 125 when entering failed, 126/127 when CMD could not be run (as env(1)). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int fail(const char *what, const char *arg) {
  fprintf(stderr, "yard-nsexec: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  return 125;
}

static void bind_etc(const char *name) {
  char dir[4096];
  snprintf(dir, sizeof(dir), "/etc/netns/%s", name);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char from[4352], to[4352];
    snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
    snprintf(to, sizeof(to), "/etc/%s", e->d_name);
    if (mount(from, to, "none", MS_BIND, NULL) < 0)
      fprintf(stderr, "yard-nsexec: bind %s -> %s: %s\n", from, to, strerror(errno));
  }
  closedir(d);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: yard-nsexec NSPATH NAME CMD [ARG...]\n");
    return 125;
  }
  const char *ns_path = argv[1], *name = argv[2];
  int fd = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open namespace", ns_path);
  if (setns(fd, CLONE_NEWNET) < 0) return fail("enter namespace", ns_path);
  close(fd);
  if (unshare(CLONE_NEWNS) < 0) return fail("unshare mount namespace", NULL);
  /* Slave, not private: mounts made on the host later still show here, ours never go back. */
  if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0) return fail("make / a slave mount", NULL);
  unsigned long flags = 0;
  struct statvfs fs;
  if (statvfs("/sys", &fs) == 0 && (fs.f_flag & ST_RDONLY)) flags |= MS_RDONLY;
  if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) return fail("unmount", "/sys");
  if (mount(strcmp(name, "-") ? name : "sysfs", "/sys", "sysfs", flags, NULL) < 0) return fail("mount sysfs on", "/sys");
  if (strcmp(name, "-") != 0) bind_etc(name);
  execvp(argv[3], argv + 3);
  int code = errno == ENOENT ? 127 : 126;
  fprintf(stderr, "yard-nsexec: exec %s: %s\n", argv[3], strerror(errno));
  return code;
}
