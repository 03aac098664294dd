/* Open file description (OFD) locks for the data-root lock. Node has no fcntl. An OFD lock belongs
 * to the open file description, not the process: a second open in the same process conflicts too,
 * closing the fd releases it, and the kernel releases it when the process dies (kill -9 included).
 * F_OFD_* since Linux 3.15; see fcntl(2), "Open file description locks". */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void whole_file(struct flock *lock, short type) {
  memset(lock, 0, sizeof(*lock));
  lock->l_type = type;
  lock->l_whence = SEEK_SET;
  lock->l_start = 0;
  lock->l_len = 0; /* to the end, however long the file grows */
  lock->l_pid = 0; /* must be 0 for F_OFD_* (EINVAL otherwise) */
}

int lock_file(const char *path) {
  /* O_CLOEXEC: a child the engine starts (a container supervisor outlives it) must not inherit the lock. */
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  struct flock lock;
  whole_file(&lock, F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &lock) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

int lock_holder(const char *path, int *holder) {
  *holder = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -errno;
  struct flock lock;
  whole_file(&lock, F_WRLCK);
  int rc = fcntl(fd, F_OFD_GETLK, &lock);
  int err = errno;
  close(fd);
  if (rc < 0) return -err;
  /* The kernel reports l_pid -1 for an OFD lock (it has no owning process), the owner's pid for a
   * classic POSIX lock. */
  if (lock.l_type != F_UNLCK) *holder = lock.l_pid > 0 ? lock.l_pid : -1;
  return 0;
}
