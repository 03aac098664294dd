/* Shared declarations for Switchyard's native addon. Kept small: everything that can be done in
 * TypeScript is done there; this layer only does what Node cannot (setns on a throwaway thread,
 * mount syscalls, netlink and raw sockets, blocking kernel calls off the JS thread). */
#ifndef SWITCHYARD_COMMON_H
#define SWITCHYARD_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Run fn(arg) on a fresh pthread and wait for it. Work that changes the calling thread's network
 * namespace happens only there, so no libuv or V8 thread ever leaves the host namespace
 * (the lesson of containernetworking/plugins pkg/ns: a thread that switched is thrown away). */
int run_on_fresh_thread(void *(*fn)(void *), void *arg);

/* Namespace files. */
typedef struct {
  const char *path;  /* nsfs bind-mount target, created here */
  int want_socket;   /* also open a NETLINK_ROUTE socket inside */
  int nl_fd;         /* out: socket fd or -1 */
  int err;           /* out: errno of the failing step, 0 on success */
  const char *step;  /* out: the failing step */
} ns_create_item;

/* Settings written in each new namespace on its creation thread: "/proc/sys/..." path, value. */
typedef struct {
  const char *path;
  const char *value;
} ns_setting;

void ns_create_batch(ns_create_item *items, size_t count, const ns_setting *settings, size_t setting_count);
/* The same on the calling thread, which is back in its own namespace when this returns (the process
 * aborts if it cannot return: a thread left in a sandbox would configure the wrong namespace).
 * Returns 0, or -errno when the calling thread's namespace cannot be opened (nothing done). */
int ns_create_here(ns_create_item *items, size_t count, const ns_setting *settings, size_t setting_count);

typedef struct {
  const char *path;
  int err;           /* umount errno (EINVAL: was not mounted) */
  int unlink_err;    /* unlink errno */
} ns_remove_item;

void ns_remove_batch(ns_remove_item *items, size_t count, int threads);

/* Open a socket inside the namespace at ns_path (NULL: the caller's namespace). Returns fd or -errno.
 * step is set to the failing step on error. */
int socket_in(const char *ns_path, int family, int type, int protocol, const char **step);
int nl_route_socket_setup(int fd);
/* socket_in on the calling thread, which returns to its own namespace (or the process aborts). */
int socket_in_here(const char *ns_path, int family, int type, int protocol, const char **step);

/* Write data to path after entering the namespace (sysctls below /proc/sys/net belong to the namespace
 * of the opener). Returns 0 or -errno. */
int write_file_in(const char *ns_path, const char *path, const char *data, size_t len, const char **step);

/* Make dir a shared mount point, bind-mounting it onto itself first if it is not one yet
 * (what `ip netns add` does for /run/netns). Returns 0 or -errno. */
int make_shared_mountpoint(const char *dir);

/* Netlink transaction: send buf (count messages with sequence numbers first_seq to first_seq+count-1;
 * nothing when len is 0, to collect replies to requests sent earlier) and collect replies until each
 * has its final message (ACK/error or DONE).
 * On success *out and *out_len hold the replies (malloc'ed). Returns 0 or -errno. */
int nl_transact(int fd, const uint8_t *buf, size_t len, uint32_t first_seq, uint32_t count, int timeout_ms,
                uint8_t **out, size_t *out_len);

/* The same without waiting, for the JS thread: sends, then reads what is already there. Returns 0
 * when every final message came, 1 when some are still to come (*finals of them came; rtnetlink
 * answers in order, so those are the first *finals sequence numbers), or -errno. */
int nl_transact_nowait(int fd, const uint8_t *buf, size_t len, uint32_t first_seq, uint32_t count,
                       uint8_t **out, size_t *out_len, uint32_t *finals);

/* ICMP echo until the first reply or the timeout. family AF_INET/AF_INET6, fd a raw ICMP socket.
 * Returns the microseconds from the first request sent to the reply, -ETIMEDOUT, or -errno. */
int64_t icmp_echo(int fd, int family, const uint8_t *dst, uint16_t ident, int timeout_ms, int interval_ms);

/* Data-root lock: an exclusive OFD write lock on the whole file at path (created 0644 if missing),
 * without waiting. Returns the fd holding it (close it to release), or -errno: EAGAIN or EACCES
 * when another open file description holds a conflicting lock. */
int lock_file(const char *path);

/* Who holds a lock on path that conflicts with a write lock, in *holder: 0 nobody (or no file), the
 * pid for a classic POSIX lock, -1 for an OFD lock (the kernel does not say which process).
 * Returns 0 or -errno. */
int lock_holder(const char *path, int *holder);

/* Run one JSON document through libnftables (one atomic transaction) in the process's own network
 * namespace. 0 or -1; *output and *error are malloc'ed (error set on failure, with the errno its
 * text names in *error_number, or 0). Calls are serialised (nft.c). */
int nft_run(const char *document, char **output, char **error, int *error_number);

/* cpusplit.c: keep the first allowed CPU free of V8's background threads (call init on the JS
 * thread when the addon loads, and worker on every libuv worker before its job: those keep every CPU). */
void cpu_split_init(void);
void cpu_split_worker(void);

#endif
