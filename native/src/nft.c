/* nftables through libnftables, in-process: no `nft` process per transaction.
 *
 * One `struct nft_ctx` for the whole process, created lazily by the first call and used under a
 * mutex (a context is not thread-safe; calls come from libuv workers, possibly several at once).
 *
 * Namespace: the context talks to the kernel through a netlink socket that nft_ctx_new opens in the
 * network namespace of the calling thread, and the socket stays in that namespace for its life.
 * The first call runs on a libuv worker or on the JS thread (small transactions, src/firewall/nft.ts),
 * and neither is ever in another namespace when it calls in here (libuv workers never leave the
 * process's namespace; the JS thread leaves it only inside a native call that returns it, see
 * netns.c), so the context always programs the engine's own (host) namespace, which is what we want. Programming a sandbox's namespace would
 * need a context created on a fresh thread inside it (not needed now).
 *
 * Cache: a context caches what it read of the ruleset; libnftables compares the kernel's ruleset
 * generation before each command and re-reads after any change, ours or another process's (checked
 * here: a set deleted and re-created with another type by the `nft` CLI between two calls is seen).
 * After a failed call the context is dropped and the next call makes a fresh one, so whatever state
 * a failure leaves (cache, socket) is never reused.
 *
 * Input: libnftables 1.0.6 has no nft_ctx_input_set_flags; with JSON output on,
 * nft_run_cmd_from_buffer parses the buffer as JSON first (and falls back to nft syntax when it is
 * not JSON at all), so a document that does not start with '{' is refused here. A JSON document is
 * one batch: the kernel applies all of it or none. */
#include "common.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nft_ctx *nft_context; /* guarded by nft_lock */

static struct nft_ctx *context_get(void) {
  if (nft_context) return nft_context;
  struct nft_ctx *context = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!context) return NULL;
  nft_ctx_output_set_flags(context, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  if (nft_ctx_buffer_output(context) != 0 || nft_ctx_buffer_error(context) != 0) {
    nft_ctx_free(context);
    return NULL;
  }
  nft_context = context;
  return context;
}

/* The errno a libnftables error text names ("Could not process rule: No such file or directory"),
 * or 0 (parse and evaluation errors name none). The longest matching description wins. */
static int errno_of(const char *text) {
  int found = 0;
  size_t found_len = 0;
  for (int e = 1; e < 134; e++) {
    const char *description = strerrordesc_np(e);
    if (!description) continue;
    size_t len = strlen(description);
    if (len > found_len && strstr(text, description)) {
      found = e;
      found_len = len;
    }
  }
  return found;
}

int nft_run(const char *document, char **output, char **error, int *error_number) {
  *output = NULL;
  *error = NULL;
  *error_number = 0;
  const char *start = document + strspn(document, " \t\r\n");
  if (*start != '{') {
    *error = strdup("not a JSON document");
    *error_number = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&nft_lock);
  struct nft_ctx *context = context_get();
  if (!context) {
    pthread_mutex_unlock(&nft_lock);
    *error = strdup("cannot create a libnftables context");
    *error_number = ENOMEM;
    return -1;
  }
  int rc = nft_run_cmd_from_buffer(context, document);
  /* Reading a buffer also rewinds it for the next call: read both every time. */
  const char *out = nft_ctx_get_output_buffer(context);
  const char *err = nft_ctx_get_error_buffer(context);
  *output = strdup(out ? out : "");
  if (rc != 0) {
    *error = strdup(err && *err ? err : "libnftables failed without a message");
    *error_number = errno_of(*error);
    nft_ctx_free(context);
    nft_context = NULL;
  }
  pthread_mutex_unlock(&nft_lock);
  return rc != 0 ? -1 : 0;
}
