/*
 * attach-floor: the kernel's own single-attach latency, as a reference for the benchmarks'
 * `*.attach.p99_vs_p50` figures (issues 2 and 3). Not product code; built beside the addon.
 *
 * It does what one attach through Switchyard does, the fastest way there is: straight syscalls from
 * one thread, no event loop, no worker threads, one netlink request per kernel change or one batch
 * where the kernel allows it:
 *   a named namespace (unshare, nsfs bind mount), a netlink socket inside it, the veth made from
 *   inside (eth0 with its MAC, peer placed in the host namespace, one queue per end), the host end
 *   with IPv6 off onto the bridge and up, then inside in one send: eth0 without an IPv6
 *   link-local, lo up, eth0 up, address, default route; attach ends when both ends read
 *   operationally up.
 * and measures it the way test/bench/kernel-attach.ts does: fill the bridge to N, take the last S
 * away, wait until the kernel has removed their ports and the CPUs are idle, then attach S one at a
 * time: S = 50 at N = 100, S = 200 at N = 1000.
 *
 * Usage (root, inside a throwaway network + mount namespace): attach-floor
 * Prints one JSON line: {"n100_p50_ms","n100_p99_ms","n1000_p50_ms","n1000_p99_ms","ratio"}, where
 * ratio is the N=1000 p99 over the N=100 p50.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_PATH "/run/switchyard-floor"
#define BRIDGE "syfloor"
#define MAX_SANDBOXES 1100

static int host_ns, host_nl;
static unsigned seq = 1;
static int bridge_index;
static int alive[MAX_SANDBOXES];

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "attach-floor: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- netlink messages: several may share one buffer and go in one send ---- */

typedef struct {
  _Alignas(8) char data[8192];
  size_t len;
} batch_t;

static struct nlmsghdr *msg_begin(batch_t *b, int type, int flags, const void *header, size_t header_len) {
  struct nlmsghdr *n = (struct nlmsghdr *)(b->data + b->len);
  memset(n, 0, NLMSG_SPACE(header_len));
  n->nlmsg_type = type;
  n->nlmsg_flags = NLM_F_REQUEST | flags;
  n->nlmsg_seq = seq++;
  n->nlmsg_len = NLMSG_LENGTH(header_len);
  memcpy(NLMSG_DATA(n), header, header_len);
  return n;
}

static void msg_end(batch_t *b, struct nlmsghdr *n) { b->len += NLMSG_ALIGN(n->nlmsg_len); }

static struct rtattr *attr(struct nlmsghdr *n, int type, const void *value, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), value, len);
  memset((char *)RTA_DATA(a) + len, 0, RTA_ALIGN(a->rta_len) - a->rta_len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void attr_u32(struct nlmsghdr *n, int type, uint32_t v) { attr(n, type, &v, 4); }
static void attr_u8(struct nlmsghdr *n, int type, uint8_t v) { attr(n, type, &v, 1); }
static void attr_str(struct nlmsghdr *n, int type, const char *s) { attr(n, type, s, strlen(s) + 1); }
static struct rtattr *nest(struct nlmsghdr *n, int type) { return attr(n, type, NULL, 0); }
static void nest_end(struct nlmsghdr *n, struct rtattr *a) { a->rta_len = (char *)n + n->nlmsg_len - (char *)a; }

static void no_ipv6_link_local(struct nlmsghdr *n) {
  struct rtattr *spec = nest(n, IFLA_AF_SPEC);
  struct rtattr *inet6 = nest(n, AF_INET6);
  attr_u8(n, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  nest_end(n, inet6);
  nest_end(n, spec);
}

/*
 * Send the batch and read until every message in it is answered (an ack, or for a GETLINK the link).
 * Returns the operational state of the last link read, or -1.
 */
static int transact(int fd, batch_t *b, int answers, const char *what) {
  if (send(fd, b->data, b->len, 0) < 0) die("%s: send: %s", what, strerror(errno));
  int oper = -1;
  _Alignas(8) char buf[32768];
  while (answers > 0) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got < 0) die("%s: recv: %s", what, strerror(errno));
    for (struct nlmsghdr *n = (struct nlmsghdr *)buf; NLMSG_OK(n, (size_t)got); n = NLMSG_NEXT(n, got)) {
      if (n->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(n);
        if (e->error) die("%s: %s", what, strerror(-e->error));
        answers--;
      } else if (n->nlmsg_type == RTM_NEWLINK) {
        struct ifinfomsg *ifi = NLMSG_DATA(n);
        int len = n->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type == IFLA_OPERSTATE) oper = *(uint8_t *)RTA_DATA(a);
        }
        answers--;
      }
    }
  }
  return oper;
}

static int get_oper(int fd, int index, const char *name) {
  batch_t b = {.len = 0};
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  struct nlmsghdr *n = msg_begin(&b, RTM_GETLINK, 0, &ifi, sizeof ifi);
  if (name) attr_str(n, IFLA_IFNAME, name);
  msg_end(&b, n);
  return transact(fd, &b, 1, "get link");
}

/* ---- one attach ---- */

static void sandbox_path(char *out, size_t size, int i) { snprintf(out, size, DIR_PATH "/fs%d", i); }

static void attach(int i) {
  char path[64], host_end[IFNAMSIZ];
  sandbox_path(path, sizeof path, i);
  snprintf(host_end, sizeof host_end, "syfv%d", i);

  /* the named namespace, and a netlink socket inside it */
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) die("create %s: %s", path, strerror(errno));
  close(fd);
  if (unshare(CLONE_NEWNET) < 0) die("unshare: %s", strerror(errno));
  if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) die("bind mount %s: %s", path, strerror(errno));
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) die("netlink socket: %s", strerror(errno));
  if (setns(host_ns, CLONE_NEWNET) < 0) die("setns back: %s", strerror(errno));

  /* the veth from inside: eth0 (index 2 in a fresh namespace), its peer in the host namespace */
  batch_t b = {.len = 0};
  struct ifinfomsg eth = {.ifi_family = AF_UNSPEC, .ifi_index = 2};
  struct nlmsghdr *n = msg_begin(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &eth, sizeof eth);
  uint8_t mac[6] = {0x02, 0x42, 10, 252, (uint8_t)(i >> 8), (uint8_t)i};
  attr_str(n, IFLA_IFNAME, "eth0");
  attr(n, IFLA_ADDRESS, mac, 6);
  attr_u32(n, IFLA_NUM_TX_QUEUES, 1);
  attr_u32(n, IFLA_NUM_RX_QUEUES, 1);
  struct rtattr *info = nest(n, IFLA_LINKINFO);
  attr_str(n, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest(n, IFLA_INFO_DATA);
  struct rtattr *peer = nest(n, VETH_INFO_PEER);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  memcpy((char *)n + n->nlmsg_len, &peer_ifi, sizeof peer_ifi);
  n->nlmsg_len += NLMSG_ALIGN(sizeof peer_ifi);
  attr_str(n, IFLA_IFNAME, host_end);
  attr_u32(n, IFLA_NET_NS_FD, host_ns);
  attr_u32(n, IFLA_NUM_TX_QUEUES, 1);
  attr_u32(n, IFLA_NUM_RX_QUEUES, 1);
  nest_end(n, peer);
  nest_end(n, data);
  nest_end(n, info);
  msg_end(&b, n);
  transact(nl, &b, 1, "veth add");

  /* the host end: IPv6 off (no link-local, multicast routes or MLD per port), onto the bridge, up */
  char conf[96];
  snprintf(conf, sizeof conf, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", host_end);
  int cf = open(conf, O_WRONLY | O_CLOEXEC);
  if (cf < 0 || write(cf, "1", 1) != 1) die("%s: %s", conf, strerror(errno));
  close(cf);
  b.len = 0;
  struct ifinfomsg up = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &up, sizeof up);
  attr_str(n, IFLA_IFNAME, host_end);
  attr_u32(n, IFLA_MASTER, bridge_index);
  msg_end(&b, n);
  transact(host_nl, &b, 1, "host end master up");

  /* inside, in one send: eth0 without IPv6 link-local, lo up, eth0 up, address, default route */
  b.len = 0;
  struct ifinfomsg eth_plain = {.ifi_family = AF_UNSPEC, .ifi_index = 2};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &eth_plain, sizeof eth_plain);
  no_ipv6_link_local(n);
  msg_end(&b, n);
  struct ifinfomsg lo = {.ifi_family = AF_UNSPEC, .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &lo, sizeof lo);
  msg_end(&b, n);
  struct ifinfomsg eth_up = {.ifi_family = AF_UNSPEC, .ifi_index = 2, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &eth_up, sizeof eth_up);
  msg_end(&b, n);
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 16, .ifa_index = 2};
  n = msg_begin(&b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifa, sizeof ifa);
  uint8_t address[4] = {10, 252, (uint8_t)(i >> 8), (uint8_t)i};
  attr(n, IFA_LOCAL, address, 4);
  attr(n, IFA_ADDRESS, address, 4);
  msg_end(&b, n);
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  n = msg_begin(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &rt, sizeof rt);
  uint8_t gateway[4] = {10, 252, 0, 1};
  attr(n, RTA_GATEWAY, gateway, 4);
  attr_u32(n, RTA_OIF, 2);
  msg_end(&b, n);
  transact(nl, &b, 5, "inside");

  /* both ends carry traffic (RTM_GETLINK runs the device's pending link-watch work itself) */
  for (int tries = 0; get_oper(nl, 2, NULL) != IF_OPER_UP || get_oper(host_nl, 0, host_end) != IF_OPER_UP; tries++) {
    if (tries > 2000) die("%s did not come up", host_end);
    usleep(100);
  }
  close(nl);
  alive[i] = 1;
}

static void detach(int i) {
  char path[64];
  sandbox_path(path, sizeof path, i);
  if (umount2(path, MNT_DETACH) < 0) die("umount %s: %s", path, strerror(errno));
  unlink(path);
  alive[i] = 0;
}

/* ---- the measurement ---- */

static int count_ports(void) {
  batch_t b = {.len = 0};
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsghdr *n = msg_begin(&b, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  attr_u32(n, IFLA_MASTER, bridge_index);
  msg_end(&b, n);
  if (send(host_nl, b.data, b.len, 0) < 0) die("dump: %s", strerror(errno));
  int ports = 0;
  _Alignas(8) char buf[32768];
  for (;;) {
    ssize_t got = recv(host_nl, buf, sizeof buf, 0);
    if (got < 0) die("dump: recv: %s", strerror(errno));
    for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)got); m = NLMSG_NEXT(m, got)) {
      if (m->nlmsg_type == NLMSG_DONE) return ports;
      if (m->nlmsg_type == NLMSG_ERROR) die("dump: error");
      struct ifinfomsg *li = NLMSG_DATA(m);
      int len = m->nlmsg_len - NLMSG_LENGTH(sizeof *li);
      for (struct rtattr *a = IFLA_RTA(li); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_MASTER && *(uint32_t *)RTA_DATA(a) == (uint32_t)bridge_index) ports++;
      }
    }
  }
}

/* Wait for the CPUs to be idle (>= 95% over half a second), as test/bench/common.ts quiet() does. */
static void quiet(void) {
  for (int k = 0; k < 60; k++) {
    unsigned long long a[8], b[8];
    FILE *f = fopen("/proc/stat", "r");
    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7]) != 8) die("/proc/stat");
    fclose(f);
    usleep(500000);
    f = fopen("/proc/stat", "r");
    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]) != 8) die("/proc/stat");
    fclose(f);
    unsigned long long total = 0;
    for (int j = 0; j < 8; j++) total += b[j] - a[j];
    if ((b[3] - a[3]) * 100 >= total * 95) return;
  }
}

static int compare(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* The same quantile as test/bench/report.ts: the ceil(q * n)-th smallest. */
static double quantile(double *values, int count, double q) {
  double sorted[MAX_SANDBOXES];
  memcpy(sorted, values, count * sizeof *values);
  qsort(sorted, count, sizeof *sorted, compare);
  int at = (int)__builtin_ceil(q * count) - 1;
  if (at < 0) at = 0;
  if (at > count - 1) at = count - 1;
  return sorted[at];
}

/* Fill the bridge to n, take the last `samples` away, then attach them again one at a time. */
static void sample(int n, int samples, int first, double *out) {
  for (int i = first; i < n; i++) attach(i);
  for (int i = n - samples; i < n; i++) detach(i);
  for (int k = 0; count_ports() > n - samples; k++) {
    if (k > 5000) die("ports of deleted sandboxes stayed on the bridge");
    usleep(10000);
  }
  quiet();
  for (int k = 0; k < samples; k++) {
    double t0 = now_ms();
    attach(n - samples + k);
    out[k] = now_ms() - t0;
  }
}

static void make_bridge(void) {
  batch_t b = {.len = 0};
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsghdr *n = msg_begin(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifi, sizeof ifi);
  attr_str(n, IFLA_IFNAME, BRIDGE);
  struct rtattr *info = nest(n, IFLA_LINKINFO);
  attr_str(n, IFLA_INFO_KIND, "bridge");
  struct rtattr *data = nest(n, IFLA_INFO_DATA);
  attr_u32(n, IFLA_BR_STP_STATE, 0);
  attr_u8(n, IFLA_BR_MCAST_SNOOPING, 0);
  nest_end(n, data);
  nest_end(n, info);
  msg_end(&b, n);
  struct ifinfomsg plain = {.ifi_family = AF_UNSPEC};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &plain, sizeof plain);
  attr_str(n, IFLA_IFNAME, BRIDGE);
  no_ipv6_link_local(n);
  msg_end(&b, n);
  struct ifinfomsg up = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  n = msg_begin(&b, RTM_NEWLINK, NLM_F_ACK, &up, sizeof up);
  attr_str(n, IFLA_IFNAME, BRIDGE);
  msg_end(&b, n);
  transact(host_nl, &b, 3, "bridge add");
  b.len = 0;
  struct ifinfomsg get = {.ifi_family = AF_UNSPEC};
  n = msg_begin(&b, RTM_GETLINK, 0, &get, sizeof get);
  attr_str(n, IFLA_IFNAME, BRIDGE);
  msg_end(&b, n);
  if (send(host_nl, b.data, b.len, 0) < 0) die("get bridge: %s", strerror(errno));
  _Alignas(8) char buf[8192];
  ssize_t got = recv(host_nl, buf, sizeof buf, 0);
  struct nlmsghdr *m = (struct nlmsghdr *)buf;
  if (got < 0 || m->nlmsg_type != RTM_NEWLINK) die("get bridge");
  bridge_index = ((struct ifinfomsg *)NLMSG_DATA(m))->ifi_index;
  b.len = 0;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 16, .ifa_index = bridge_index};
  n = msg_begin(&b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifa, sizeof ifa);
  uint8_t gateway[4] = {10, 252, 0, 1};
  attr(n, IFA_LOCAL, gateway, 4);
  attr(n, IFA_ADDRESS, gateway, 4);
  msg_end(&b, n);
  transact(host_nl, &b, 1, "bridge address");
}

static void delete_bridge(void) {
  batch_t b = {.len = 0};
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = bridge_index};
  struct nlmsghdr *n = msg_begin(&b, RTM_DELLINK, NLM_F_ACK, &ifi, sizeof ifi);
  msg_end(&b, n);
  transact(host_nl, &b, 1, "bridge delete");
}

static void teardown(void) {
  for (int i = 0; i < MAX_SANDBOXES; i++) {
    if (alive[i]) detach(i);
  }
  for (int k = 0; count_ports() > 0 && k < 5000; k++) usleep(10000);
  delete_bridge();
}

int main(void) {
  host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  host_nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (host_ns < 0 || host_nl < 0) die("host namespace: %s", strerror(errno));
  mkdir(DIR_PATH, 0755);
  /* a mount of its own (as `ip netns` makes /run/netns), private to this mount namespace: nothing of
     it outlives the run, even one that fails */
  if (mount("tmpfs", DIR_PATH, "tmpfs", 0, "mode=0755") < 0) die("mount " DIR_PATH ": %s", strerror(errno));

  static double small[50], large[200];
  make_bridge();
  sample(100, 50, 0, small);
  teardown();
  quiet();
  make_bridge();
  sample(1000, 200, 0, large);
  teardown();
  umount2(DIR_PATH, MNT_DETACH);
  rmdir(DIR_PATH);

  double p50 = quantile(small, 50, 0.5), p99 = quantile(large, 200, 0.99);
  printf("{\"n100_p50_ms\":%.3f,\"n100_p99_ms\":%.3f,\"n1000_p50_ms\":%.3f,\"n1000_p99_ms\":%.3f,\"ratio\":%.3f}\n", p50,
         quantile(small, 50, 0.99), quantile(large, 200, 0.5), p99, p99 / p50);
  return 0;
}
