/* Network namespaces: creation and removal of nsfs bind mounts, sockets opened inside a namespace,
 * per-namespace file writes (sysctls). Every setns/unshare happens either on a fresh pthread that
 * exits afterwards, or (the *_here variants, for the JS thread when it would otherwise wait for a
 * thread hand-off) on the calling thread inside one native call that returns it to the namespace it
 * was in before returning, and aborts the process if it cannot: no JS code ever runs, and no thread
 * Node or libuv reuses is ever left, in another namespace. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

int run_on_fresh_thread(void *(*fn)(void *), void *arg) {
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc = pthread_create(&thread, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  if (rc != 0) return -rc;
  pthread_join(thread, NULL);
  return 0;
}

int nl_route_socket_setup(int fd) {
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) return -errno;
  int one = 1;
  /* Extended acks carry the kernel's own reason ("Unknown device type"); capped acks do not echo
   * the request back in every error. Strict checking makes dump filters (by family, table) hold. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
  int size = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  return 0;
}

static int open_route_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  int rc = nl_route_socket_setup(fd);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return fd;
}

/* ---- create ---------------------------------------------------------------------------------- */

typedef struct {
  ns_create_item *items;
  size_t count;
  const ns_setting *settings;
  size_t setting_count;
} create_batch;

static int write_setting(const ns_setting *setting) {
  int fd = open(setting->path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, setting->value, strlen(setting->value));
  int saved = errno;
  close(fd);
  return n < 0 ? -saved : 0;
}

static void *create_thread(void *arg) {
  create_batch *batch = arg;
  char self[64];
  snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
  for (size_t i = 0; i < batch->count; i++) {
    ns_create_item *item = &batch->items[i];
    item->nl_fd = -1;
    item->err = 0;
    item->step = NULL;
    int fd = open(item->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
      item->err = errno;
      item->step = "create namespace file";
      continue;
    }
    close(fd);
    if (unshare(CLONE_NEWNET) < 0) {
      item->err = errno;
      item->step = "unshare network namespace";
      unlink(item->path);
      continue;
    }
    if (mount(self, item->path, "none", MS_BIND, NULL) < 0) {
      item->err = errno;
      item->step = "bind mount namespace";
      unlink(item->path);
      continue;
    }
    int failed = 0;
    for (size_t k = 0; k < batch->setting_count; k++) {
      int rc = write_setting(&batch->settings[k]);
      if (rc < 0) {
        item->err = -rc;
        item->step = batch->settings[k].path;
        failed = 1;
        break;
      }
    }
    if (failed) {
      umount2(item->path, MNT_DETACH);
      unlink(item->path);
      continue;
    }
    if (item->want_socket) {
      int nl = open_route_socket();
      if (nl < 0) {
        item->err = -nl;
        item->step = "open netlink socket in namespace";
        umount2(item->path, MNT_DETACH);
        unlink(item->path);
        continue;
      }
      item->nl_fd = nl;
    }
  }
  return NULL;
}

static int open_home(void) {
  return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

static void go_home(int home) {
  if (setns(home, CLONE_NEWNET) < 0) abort();
  close(home);
}

int ns_create_here(ns_create_item *items, size_t count, const ns_setting *settings, size_t setting_count) {
  int home = open_home();
  if (home < 0) return -errno;
  create_batch batch = {items, count, settings, setting_count};
  create_thread(&batch);
  go_home(home);
  return 0;
}

void ns_create_batch(ns_create_item *items, size_t count, const ns_setting *settings, size_t setting_count) {
  create_batch batch = {items, count, settings, setting_count};
  int rc = run_on_fresh_thread(create_thread, &batch);
  if (rc < 0) {
    for (size_t i = 0; i < count; i++) {
      items[i].nl_fd = -1;
      items[i].err = -rc;
      items[i].step = "start namespace thread";
    }
  }
}

/* ---- remove ---------------------------------------------------------------------------------- */

typedef struct {
  ns_remove_item *items;
  size_t count;
  atomic_size_t next;
} remove_batch;

/* Each umount waits for an RCU grace period in namespace_unlock(); several threads let those
 * waits overlap instead of adding up. These threads never change namespace. */
static void *remove_thread(void *arg) {
  remove_batch *batch = arg;
  for (;;) {
    size_t i = atomic_fetch_add(&batch->next, 1);
    if (i >= batch->count) break;
    ns_remove_item *item = &batch->items[i];
    item->err = umount2(item->path, MNT_DETACH) < 0 ? errno : 0;
    item->unlink_err = unlink(item->path) < 0 ? errno : 0;
  }
  return NULL;
}

void ns_remove_batch(ns_remove_item *items, size_t count, int threads) {
  remove_batch batch = {items, count, 0};
  if (threads < 1) threads = 1;
  if ((size_t)threads > count) threads = (int)count;
  pthread_t ids[64];
  if (threads > 64) threads = 64;
  int started = 0;
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&ids[started], NULL, remove_thread, &batch) == 0) started++;
  }
  remove_thread(&batch);
  for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
}

/* ---- sockets and files inside a namespace ------------------------------------------------------ */

typedef struct {
  const char *ns_path;
  int family, type, protocol;
  int result;
  const char *step;
  /* file write */
  const char *file;
  const char *data;
  size_t len;
} in_ns_job;

static int enter(const char *ns_path, const char **step) {
  if (!ns_path) return 0;
  int nsfd = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    *step = "open namespace";
    return -errno;
  }
  int rc = setns(nsfd, CLONE_NEWNET);
  int saved = errno;
  close(nsfd);
  if (rc < 0) {
    *step = "enter namespace";
    return -saved;
  }
  return 0;
}

static void *socket_thread(void *arg) {
  in_ns_job *job = arg;
  int rc = enter(job->ns_path, &job->step);
  if (rc < 0) {
    job->result = rc;
    return NULL;
  }
  int fd = socket(job->family, job->type | SOCK_CLOEXEC, job->protocol);
  if (fd < 0) {
    job->result = -errno;
    job->step = "open socket";
    return NULL;
  }
  if (job->family == AF_NETLINK) {
    rc = nl_route_socket_setup(fd);
    if (rc < 0) {
      close(fd);
      job->result = rc;
      job->step = "set up netlink socket";
      return NULL;
    }
  }
  job->result = fd;
  return NULL;
}

int socket_in(const char *ns_path, int family, int type, int protocol, const char **step) {
  in_ns_job job = {.ns_path = ns_path, .family = family, .type = type, .protocol = protocol};
  int rc = run_on_fresh_thread(socket_thread, &job);
  if (rc < 0) {
    *step = "start namespace thread";
    return rc;
  }
  *step = job.step;
  return job.result;
}

int socket_in_here(const char *ns_path, int family, int type, int protocol, const char **step) {
  in_ns_job job = {.ns_path = ns_path, .family = family, .type = type, .protocol = protocol};
  int home = -1;
  if (ns_path) {
    home = open_home();
    if (home < 0) {
      *step = "open own namespace";
      return -errno;
    }
  }
  socket_thread(&job);
  if (home >= 0) go_home(home);
  *step = job.step;
  return job.result;
}

static void *write_thread(void *arg) {
  in_ns_job *job = arg;
  int rc = enter(job->ns_path, &job->step);
  if (rc < 0) {
    job->result = rc;
    return NULL;
  }
  int fd = open(job->file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    job->result = -errno;
    job->step = "open file";
    return NULL;
  }
  ssize_t n = write(fd, job->data, job->len);
  job->result = n < 0 ? -errno : 0;
  if (n < 0) job->step = "write file";
  close(fd);
  return NULL;
}

int write_file_in(const char *ns_path, const char *path, const char *data, size_t len, const char **step) {
  in_ns_job job = {.ns_path = ns_path, .file = path, .data = data, .len = len};
  int rc = run_on_fresh_thread(write_thread, &job);
  if (rc < 0) {
    *step = "start namespace thread";
    return rc;
  }
  *step = job.step;
  return job.result;
}

int make_shared_mountpoint(const char *dir) {
  /* Changing propagation succeeds only on the root of a mount (EINVAL otherwise), so success
   * means dir is already a mount point of its own, e.g. from an earlier run. */
  if (mount("none", dir, NULL, MS_SHARED | MS_REC, NULL) == 0) return 0;
  if (errno != EINVAL) return -errno;
  if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0) return -errno;
  if (mount("none", dir, NULL, MS_SHARED | MS_REC, NULL) < 0) return -errno;
  return 0;
}
