/* Netlink transactions. A batch of requests goes to the kernel in one sendmsg (rtnetlink handles
 * every message of the datagram in order and acks each), then replies are read until each request
 * has its final message. This runs on a libuv worker thread: the kernel does the work inside
 * sendmsg/recvmsg, so doing it here keeps slow operations (a veth delete waits for RCU) off the
 * JS thread. Sockets are not tied to a thread's namespace once open, so any thread may use them.
 * nl_transact_nowait is the JS thread's variant for requests that do not block in the kernel: it
 * sends and takes what the kernel answered inside sendmsg (rtnetlink answers every request there),
 * never waiting; whatever is missing is collected on a worker afterwards. */
#include "common.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CHUNK 65536

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read replies until `count` final messages (ACK/error or DONE) of sequence numbers first_seq.. have
 * come, appending them to *data. With wait_ms < 0 nothing is waited for: it stops at the first
 * empty read. Returns 0 when all came, 1 when it stopped early (no wait), or -errno. */
static int collect(int fd, uint32_t first_seq, uint32_t count, int wait_ms, uint8_t **data, size_t *used, uint32_t *finals) {
  /* Replies are read into a chunk on this thread's stack and copied out at their exact size: most
   * transactions get a few dozen bytes of acks back, and a large heap buffer per call fragments the
   * allocator's per-thread arenas (resident memory of a long-running engine). */
  uint8_t chunk[CHUNK];
  int64_t deadline = now_ms() + (wait_ms < 0 ? 0 : wait_ms);
  while (*finals < count) {
    struct iovec iov = {chunk, CHUNK};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (wait_ms < 0) return 1;
        int left = (int)(deadline - now_ms());
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, left);
        continue;
      }
      return -errno;
    }
    if (msg.msg_flags & MSG_TRUNC) return -EMSGSIZE;
    /* Count final messages of this batch; anything else (dump parts, echoes) is passed on whole. */
    size_t off = 0;
    while (off + sizeof(struct nlmsghdr) <= (size_t)got) {
      struct nlmsghdr *h = (struct nlmsghdr *)(chunk + off);
      if (h->nlmsg_len < sizeof(struct nlmsghdr) || off + h->nlmsg_len > (size_t)got) break;
      if ((h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) && h->nlmsg_seq - first_seq < count)
        (*finals)++;
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    uint8_t *grown = realloc(*data, *used + (size_t)got);
    if (!grown) return -ENOMEM;
    *data = grown;
    memcpy(*data + *used, chunk, (size_t)got);
    *used += (size_t)got;
  }
  return 0;
}

static int send_all(int fd, const uint8_t *buf, size_t len) {
  if (len == 0) return 0; /* a continuation: the requests went out earlier */
  for (;;) {
    ssize_t sent = send(fd, buf, len, 0);
    if (sent >= 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int nl_transact(int fd, const uint8_t *buf, size_t len, uint32_t first_seq, uint32_t count, int timeout_ms,
                uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  int rc = send_all(fd, buf, len);
  if (rc < 0) return rc;
  uint8_t *data = NULL;
  size_t used = 0;
  uint32_t finals = 0;
  /* A timeout of 0: the kernel answers the whole request inside send or never (an nfnetlink batch,
   * accepted, or refused at its begin with no acknowledgement of its parts): take what came, never
   * wait; the caller sees what is missing. */
  rc = collect(fd, first_seq, count, timeout_ms == 0 ? -1 : timeout_ms, &data, &used, &finals);
  if (rc < 0) {
    free(data);
    return rc;
  }
  *out = data;
  *out_len = used;
  return 0;
}

int nl_transact_nowait(int fd, const uint8_t *buf, size_t len, uint32_t first_seq, uint32_t count,
                       uint8_t **out, size_t *out_len, uint32_t *finals) {
  *out = NULL;
  *out_len = 0;
  *finals = 0;
  int rc = send_all(fd, buf, len);
  if (rc < 0) return rc;
  uint8_t *data = NULL;
  size_t used = 0;
  rc = collect(fd, first_seq, count, -1, &data, &used, finals);
  if (rc < 0) {
    free(data);
    return rc;
  }
  *out = data;
  *out_len = used;
  return rc;
}
