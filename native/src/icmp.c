/* ICMP echo over a raw socket opened inside a sandbox: the reachability probe used by tests,
 * benchmarks and the lab's checks, with no `ping` process per probe. */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint16_t checksum(const uint8_t *data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(data[i] << 8 | data[i + 1]);
  if (len & 1) sum += (uint32_t)data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

int64_t icmp_echo(int fd, int family, const uint8_t *dst, uint16_t ident, int timeout_ms, int interval_ms) {
  struct sockaddr_storage to;
  socklen_t to_len;
  memset(&to, 0, sizeof(to));
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&to;
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, dst, 4);
    to_len = sizeof(*sin);
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, dst, 16);
    to_len = sizeof(*sin6);
  }
  const uint8_t request_type = family == AF_INET ? 8 : 128;
  const uint8_t reply_type = family == AF_INET ? 0 : 129;
  int64_t start = now_us();
  int64_t deadline = start + (int64_t)timeout_ms * 1000;
  int64_t next_send = start;
  uint16_t seq = 0;
  uint8_t packet[24], reply[1500];
  while (now_us() < deadline) {
    int64_t t = now_us();
    if (t >= next_send) {
      memset(packet, 0, sizeof(packet));
      packet[0] = request_type;
      packet[4] = ident >> 8;
      packet[5] = ident & 0xff;
      seq++;
      packet[6] = seq >> 8;
      packet[7] = seq & 0xff;
      memcpy(packet + 8, "switchyard-probe", 16);
      if (family == AF_INET) {
        uint16_t sum = checksum(packet, sizeof(packet));
        packet[2] = sum >> 8;
        packet[3] = sum & 0xff;
      } /* the kernel fills in ICMPv6 checksums on raw sockets */
      if (sendto(fd, packet, sizeof(packet), 0, (struct sockaddr *)&to, to_len) < 0 && errno != ENETUNREACH &&
          errno != EHOSTUNREACH && errno != EAGAIN)
        return -errno;
      next_send = t + (int64_t)interval_ms * 1000;
    }
    int64_t wait_until = next_send < deadline ? next_send : deadline;
    int wait_ms = (int)((wait_until - now_us() + 999) / 1000);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, wait_ms < 0 ? 0 : wait_ms);
    if (ready <= 0) continue;
    ssize_t got;
    while ((got = recv(fd, reply, sizeof(reply), MSG_DONTWAIT)) > 0) {
      const uint8_t *icmp = reply;
      ssize_t icmp_len = got;
      if (family == AF_INET) { /* raw IPv4 sockets deliver the IP header too */
        size_t header = (size_t)(reply[0] & 0x0f) * 4;
        if ((ssize_t)header >= got) continue;
        icmp = reply + header;
        icmp_len = got - (ssize_t)header;
      }
      if (icmp_len < 8 || icmp[0] != reply_type) continue;
      if ((uint16_t)(icmp[4] << 8 | icmp[5]) != ident) continue;
      return now_us() - start;
    }
  }
  return -ETIMEDOUT;
}
