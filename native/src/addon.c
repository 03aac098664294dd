/* N-API glue: every call that may block on the kernel runs as async work and settles a promise on
 * the event loop. Errors reject with an Error carrying `errno` (positive) and `step`. */
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common.h"

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "switchyard native: " #call);       \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

typedef enum { JOB_NS_CREATE, JOB_NS_REMOVE, JOB_SOCKET_IN, JOB_WRITE_IN, JOB_NL, JOB_NL_MANY, JOB_ICMP, JOB_NFT } job_kind;

/* One socket's batch in a nlTransactMany call. */
typedef struct {
  int fd;
  const uint8_t *bytes;
  size_t len;
  uint32_t first_seq, count;
  int timeout_ms;
  int result;
  uint8_t *out;
  size_t out_len;
} nl_item;

typedef struct {
  job_kind kind;
  napi_deferred deferred;
  napi_async_work work;
  napi_ref keep; /* keeps an input buffer alive while a worker reads it */
  /* inputs */
  char **strings;
  size_t string_count;
  char *ns_path;
  char *path;
  char *data;
  size_t data_len;
  const uint8_t *bytes;
  size_t bytes_len;
  int a, b, c, d;
  uint32_t u1, u2;
  uint8_t addr[16];
  /* outputs */
  ns_create_item *creates;
  ns_setting *settings;
  size_t setting_count;
  char **setting_strings;
  ns_remove_item *removes;
  int result;
  int64_t result64;
  const char *step;
  uint8_t *out;
  size_t out_len;
  nl_item *nl_items;
  size_t nl_count;
  char *nft_output;
  char *nft_error;
  int nft_errno;
  napi_ref *nl_keep;
} job;

static char *get_string(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return NULL;
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, value, s, len + 1, &len);
  return s;
}

static int get_int(napi_env env, napi_value value, int *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* The call's one string argument, copied (the caller frees it); NULL, with a TypeError naming
 * `usage` thrown, when it has none. */
static char *string_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  char *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) s = get_string(env, argv[0]);
  if (!s) napi_throw_type_error(env, NULL, usage);
  return s;
}

/* What libnftables gave, as a JS value: its output (a string), or, when rc < 0 (*failed set), an
 * Error with its text and the `errno` the text names. */
static napi_value nft_value(napi_env env, int rc, const char *output, const char *error, int error_number, int *failed) {
  napi_value value;
  *failed = rc < 0;
  if (!*failed) {
    napi_create_string_utf8(env, output ? output : "", NAPI_AUTO_LENGTH, &value);
    return value;
  }
  napi_value message;
  napi_create_string_utf8(env, error ? error : "libnftables failed", NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &value);
  if (error_number) {
    napi_value number;
    napi_create_int32(env, error_number, &number);
    napi_set_named_property(env, value, "errno", number);
  }
  return value;
}

static napi_value make_error(napi_env env, int err, const char *step) {
  napi_value message, error, number, step_value;
  const char *text = strerror(err);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_int32(env, err, &number);
  napi_set_named_property(env, error, "errno", number);
  if (step) {
    napi_create_string_utf8(env, step, NAPI_AUTO_LENGTH, &step_value);
    napi_set_named_property(env, error, "step", step_value);
  }
  return error;
}

static void free_job(napi_env env, job *j) {
  for (size_t i = 0; i < j->string_count; i++) free(j->strings[i]);
  free(j->strings);
  free(j->ns_path);
  free(j->path);
  free(j->data);
  free(j->creates);
  for (size_t i = 0; i < j->setting_count * 2; i++) free(j->setting_strings[i]);
  free(j->setting_strings);
  free(j->settings);
  free(j->removes);
  free(j->out);
  for (size_t i = 0; i < j->nl_count; i++) {
    free(j->nl_items[i].out);
    if (j->nl_keep && j->nl_keep[i]) napi_delete_reference(env, j->nl_keep[i]);
  }
  free(j->nl_items);
  free(j->nft_output);
  free(j->nft_error);
  free(j->nl_keep);
  if (j->keep) napi_delete_reference(env, j->keep);
  napi_delete_async_work(env, j->work);
  free(j);
}

static void execute(napi_env env, void *data) {
  job *j = data;
  cpu_split_worker();
  switch (j->kind) {
    case JOB_NS_CREATE:
      ns_create_batch(j->creates, j->string_count, j->settings, j->setting_count);
      break;
    case JOB_NS_REMOVE:
      ns_remove_batch(j->removes, j->string_count, j->a);
      break;
    case JOB_SOCKET_IN:
      j->result = socket_in(j->ns_path, j->a, j->b, j->c, &j->step);
      break;
    case JOB_WRITE_IN:
      j->result = write_file_in(j->ns_path, j->path, j->data, j->data_len, &j->step);
      break;
    case JOB_NL:
      j->result = nl_transact(j->a, j->bytes, j->bytes_len, j->u1, j->u2, j->b, &j->out, &j->out_len);
      if (j->result < 0) j->step = "netlink transaction";
      break;
    case JOB_NL_MANY:
      for (size_t i = 0; i < j->nl_count; i++) {
        nl_item *it = &j->nl_items[i];
        it->result = nl_transact(it->fd, it->bytes, it->len, it->first_seq, it->count, it->timeout_ms, &it->out, &it->out_len);
      }
      break;
    case JOB_NFT:
      j->result = nft_run(j->data, &j->nft_output, &j->nft_error, &j->nft_errno);
      break;
    case JOB_ICMP:
      j->result64 = icmp_echo(j->a, j->b, j->addr, (uint16_t)j->c, j->d, (int)j->u1);
      break;
  }
}

static napi_value ns_create_rows(napi_env env, job *j);

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_value value = NULL, undefined;
  napi_get_undefined(env, &undefined);
  int failed = 0;
  switch (j->kind) {
    case JOB_NS_CREATE:
      value = ns_create_rows(env, j);
      break;
    case JOB_NS_REMOVE: {
      napi_create_array_with_length(env, j->string_count, &value);
      for (size_t i = 0; i < j->string_count; i++) {
        napi_value row, a, b;
        napi_create_array_with_length(env, 2, &row);
        napi_create_int32(env, j->removes[i].err, &a);
        napi_create_int32(env, j->removes[i].unlink_err, &b);
        napi_set_element(env, row, 0, a);
        napi_set_element(env, row, 1, b);
        napi_set_element(env, value, (uint32_t)i, row);
      }
      break;
    }
    case JOB_SOCKET_IN:
      if (j->result < 0) {
        failed = 1;
        value = make_error(env, -j->result, j->step);
      } else {
        napi_create_int32(env, j->result, &value);
      }
      break;
    case JOB_WRITE_IN:
      if (j->result < 0) {
        failed = 1;
        value = make_error(env, -j->result, j->step);
      } else {
        value = undefined;
      }
      break;
    case JOB_NL:
      if (j->result < 0) {
        failed = 1;
        value = make_error(env, -j->result, j->step);
      } else {
        void *copy;
        napi_create_buffer_copy(env, j->out_len, j->out, &copy, &value);
      }
      break;
    case JOB_NL_MANY: {
      napi_create_array_with_length(env, j->nl_count, &value);
      for (size_t i = 0; i < j->nl_count; i++) {
        napi_value element;
        if (j->nl_items[i].result < 0) {
          napi_create_int32(env, -j->nl_items[i].result, &element);
        } else {
          void *copy;
          napi_create_buffer_copy(env, j->nl_items[i].out_len, j->nl_items[i].out, &copy, &element);
        }
        napi_set_element(env, value, (uint32_t)i, element);
      }
      break;
    }
    case JOB_NFT:
      value = nft_value(env, j->result, j->nft_output, j->nft_error, j->nft_errno, &failed);
      break;
    case JOB_ICMP:
      if (j->result64 == -ETIMEDOUT) {
        napi_get_null(env, &value);
      } else if (j->result64 < 0) {
        failed = 1;
        value = make_error(env, (int)-j->result64, "icmp echo");
      } else {
        napi_create_double(env, (double)j->result64, &value);
      }
      break;
  }
  if (failed)
    napi_reject_deferred(env, j->deferred, value);
  else
    napi_resolve_deferred(env, j->deferred, value);
  free_job(env, j);
}

static napi_value queue(napi_env env, job *j, const char *name) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
    free(j);
    napi_throw_error(env, NULL, "switchyard native: cannot create promise");
    return NULL;
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static job *new_job(job_kind kind) {
  job *j = calloc(1, sizeof(job));
  if (j) j->kind = kind;
  return j;
}

static int read_string_array(napi_env env, napi_value array, job *j) {
  uint32_t length;
  if (napi_get_array_length(env, array, &length) != napi_ok) return 0;
  j->strings = calloc(length ? length : 1, sizeof(char *));
  j->string_count = length;
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    napi_get_element(env, array, i, &element);
    j->strings[i] = get_string(env, element);
    if (!j->strings[i]) return 0;
  }
  return 1;
}

static napi_value ns_create_rows(napi_env env, job *j) {
  napi_value value;
  napi_create_array_with_length(env, j->string_count, &value);
  for (size_t i = 0; i < j->string_count; i++) {
    napi_value row, fd, err, step;
    napi_create_array_with_length(env, 3, &row);
    napi_create_int32(env, j->creates[i].nl_fd, &fd);
    napi_create_int32(env, j->creates[i].err, &err);
    if (j->creates[i].step)
      napi_create_string_utf8(env, j->creates[i].step, NAPI_AUTO_LENGTH, &step);
    else
      napi_get_null(env, &step);
    napi_set_element(env, row, 0, fd);
    napi_set_element(env, row, 1, err);
    napi_set_element(env, row, 2, step);
    napi_set_element(env, value, (uint32_t)i, row);
  }
  return value;
}

/* nsCreate(paths: string[], wantSocket: boolean, settings: [path, value][]): Promise<[nlFd, errno, step][]>
 * nsCreateNow(...same): [nlFd, errno, step][] — on the calling thread (common.h: ns_create_here). */
static napi_value ns_create_common(napi_env env, napi_callback_info info, int now) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_NS_CREATE);
  uint32_t setting_count = 0;
  if (argc >= 3 && napi_get_array_length(env, argv[2], &setting_count) == napi_ok && setting_count > 0) {
    j->settings = calloc(setting_count, sizeof(ns_setting));
    j->setting_strings = calloc(setting_count * 2, sizeof(char *));
    j->setting_count = setting_count;
    for (uint32_t i = 0; i < setting_count; i++) {
      napi_value pair, path, value;
      napi_get_element(env, argv[2], i, &pair);
      napi_get_element(env, pair, 0, &path);
      napi_get_element(env, pair, 1, &value);
      j->setting_strings[2 * i] = get_string(env, path);
      j->setting_strings[2 * i + 1] = get_string(env, value);
      if (!j->setting_strings[2 * i] || !j->setting_strings[2 * i + 1]) {
        free_job(env, j);
        napi_throw_type_error(env, NULL, "nsCreate: settings must be [path, value] string pairs");
        return NULL;
      }
      j->settings[i].path = j->setting_strings[2 * i];
      j->settings[i].value = j->setting_strings[2 * i + 1];
    }
  }
  bool want_socket = false;
  napi_get_value_bool(env, argv[1], &want_socket);
  if (!read_string_array(env, argv[0], j)) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "nsCreate: paths must be strings");
    return NULL;
  }
  j->creates = calloc(j->string_count ? j->string_count : 1, sizeof(ns_create_item));
  for (size_t i = 0; i < j->string_count; i++) {
    j->creates[i].path = j->strings[i];
    j->creates[i].want_socket = want_socket;
  }
  if (now) {
    int rc = ns_create_here(j->creates, j->string_count, j->settings, j->setting_count);
    napi_value value = rc < 0 ? NULL : ns_create_rows(env, j);
    if (rc < 0) napi_throw(env, make_error(env, -rc, "open own namespace"));
    free_job(env, j);
    return value;
  }
  return queue(env, j, "switchyard.nsCreate");
}

static napi_value ns_create(napi_env env, napi_callback_info info) { return ns_create_common(env, info, 0); }
static napi_value ns_create_now(napi_env env, napi_callback_info info) { return ns_create_common(env, info, 1); }

/* nsRemove(paths: string[], threads: number): Promise<[umountErrno, unlinkErrno][]> */
static napi_value ns_remove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_NS_REMOVE);
  if (!read_string_array(env, argv[0], j) || !get_int(env, argv[1], &j->a)) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "nsRemove: (paths: string[], threads: number)");
    return NULL;
  }
  j->removes = calloc(j->string_count ? j->string_count : 1, sizeof(ns_remove_item));
  for (size_t i = 0; i < j->string_count; i++) j->removes[i].path = j->strings[i];
  return queue(env, j, "switchyard.nsRemove");
}

/* socketIn(nsPath: string | null, family, type, protocol): Promise<fd> */
static napi_value socket_in_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_SOCKET_IN);
  j->ns_path = get_string(env, argv[0]);
  if (!get_int(env, argv[1], &j->a) || !get_int(env, argv[2], &j->b) || !get_int(env, argv[3], &j->c)) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "socketIn: (nsPath, family, type, protocol)");
    return NULL;
  }
  return queue(env, j, "switchyard.socketIn");
}

/* socketInNow(nsPath: string | null, family, type, protocol): fd (throws) — on the calling thread
 * (common.h: socket_in_here). */
static napi_value socket_in_now_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int family, type, protocol;
  if (!get_int(env, argv[1], &family) || !get_int(env, argv[2], &type) || !get_int(env, argv[3], &protocol)) {
    napi_throw_type_error(env, NULL, "socketInNow: (nsPath, family, type, protocol)");
    return NULL;
  }
  char *ns_path = get_string(env, argv[0]);
  const char *step = NULL;
  int fd = socket_in_here(ns_path, family, type, protocol, &step);
  free(ns_path);
  if (fd < 0) {
    napi_throw(env, make_error(env, -fd, step));
    return NULL;
  }
  napi_value value;
  napi_create_int32(env, fd, &value);
  return value;
}

/* writeFileIn(nsPath: string | null, path: string, data: string): Promise<void> */
static napi_value write_in_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_WRITE_IN);
  j->ns_path = get_string(env, argv[0]);
  j->path = get_string(env, argv[1]);
  j->data = get_string(env, argv[2]);
  if (!j->path || !j->data) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "writeFileIn: (nsPath, path, data)");
    return NULL;
  }
  j->data_len = strlen(j->data);
  return queue(env, j, "switchyard.writeFileIn");
}

/* nlTransact(fd, request: Buffer, firstSeq, count, timeoutMs): Promise<Buffer> */
static napi_value nl_transact_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_NL);
  void *bytes;
  size_t len;
  int first_seq, count;
  if (!get_int(env, argv[0], &j->a) || napi_get_buffer_info(env, argv[1], &bytes, &len) != napi_ok ||
      !get_int(env, argv[2], &first_seq) || !get_int(env, argv[3], &count) || !get_int(env, argv[4], &j->b)) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "nlTransact: (fd, request, firstSeq, count, timeoutMs)");
    return NULL;
  }
  j->bytes = bytes;
  j->bytes_len = len;
  j->u1 = (uint32_t)first_seq;
  j->u2 = (uint32_t)count;
  napi_create_reference(env, argv[1], 1, &j->keep);
  return queue(env, j, "switchyard.nlTransact");
}

/* nlTransactNow(fd, request: Buffer, firstSeq, count): Buffer | [Buffer, finals] (throws) — on the
 * calling thread, never waiting (common.h: nl_transact_nowait): the replies, or those that came with
 * how many of the requests they finish when the kernel has not answered them all yet. */
static napi_value nl_transact_now_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *bytes;
  size_t len;
  int fd, first_seq, count;
  if (!get_int(env, argv[0], &fd) || napi_get_buffer_info(env, argv[1], &bytes, &len) != napi_ok ||
      !get_int(env, argv[2], &first_seq) || !get_int(env, argv[3], &count)) {
    napi_throw_type_error(env, NULL, "nlTransactNow: (fd, request, firstSeq, count)");
    return NULL;
  }
  uint8_t *out = NULL;
  size_t out_len = 0;
  uint32_t finals = 0;
  int rc = nl_transact_nowait(fd, bytes, len, (uint32_t)first_seq, (uint32_t)count, &out, &out_len, &finals);
  if (rc < 0) {
    napi_throw(env, make_error(env, -rc, "netlink transaction"));
    return NULL;
  }
  napi_value buffer, value;
  void *copy;
  napi_create_buffer_copy(env, out_len, out ? (void *)out : (void *)"", &copy, &buffer);
  free(out);
  if (rc == 0) return buffer;
  napi_value number;
  napi_create_array_with_length(env, 2, &value);
  napi_create_uint32(env, finals, &number);
  napi_set_element(env, value, 0, buffer);
  napi_set_element(env, value, 1, number);
  return value;
}

/* nftRun(document: string): Promise<string> — one JSON document through libnftables, atomically,
 * on a libuv worker; resolves with libnftables' JSON output ("" for commands that print nothing),
 * rejects with its error text (and `errno` when the text names one). */
static napi_value nft_run_js(napi_env env, napi_callback_info info) {
  char *document = string_arg(env, info, "nftRun: (document: string)");
  if (!document) return NULL;
  job *j = new_job(JOB_NFT);
  j->data = document;
  return queue(env, j, "switchyard.nftRun");
}

/* nftRunNow(document: string): string (throws) — nftRun on the calling (JS) thread. */
static napi_value nft_run_now_js(napi_env env, napi_callback_info info) {
  char *document = string_arg(env, info, "nftRunNow: (document: string)");
  if (!document) return NULL;
  char *output = NULL, *error = NULL;
  int error_number = 0, failed;
  int rc = nft_run(document, &output, &error, &error_number);
  free(document);
  napi_value value = nft_value(env, rc, output, error, error_number, &failed);
  free(output);
  free(error);
  if (failed) {
    napi_throw(env, value);
    return NULL;
  }
  return value;
}

/* nlTransactMany(batches: [fd, request: Buffer, firstSeq, count, timeoutMs][]): Promise<(Buffer | errno)[]>
 * Several sockets' batches in one worker job: one thread hop for many sandboxes. Each batch has its
 * own timeout (0: answered inside send, never waited for; see nl_transact). */
static napi_value nl_transact_many_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_NL_MANY);
  uint32_t count;
  if (napi_get_array_length(env, argv[0], &count) != napi_ok) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "nlTransactMany: (batches)");
    return NULL;
  }
  j->nl_items = calloc(count ? count : 1, sizeof(nl_item));
  j->nl_keep = calloc(count ? count : 1, sizeof(napi_ref));
  j->nl_count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value row, fd, buf, seq, n, wait;
    void *bytes;
    size_t len;
    int first_seq, number;
    napi_get_element(env, argv[0], i, &row);
    napi_get_element(env, row, 0, &fd);
    napi_get_element(env, row, 1, &buf);
    napi_get_element(env, row, 2, &seq);
    napi_get_element(env, row, 3, &n);
    napi_get_element(env, row, 4, &wait);
    if (!get_int(env, fd, &j->nl_items[i].fd) || napi_get_buffer_info(env, buf, &bytes, &len) != napi_ok ||
        !get_int(env, seq, &first_seq) || !get_int(env, n, &number) || !get_int(env, wait, &j->nl_items[i].timeout_ms)) {
      free_job(env, j);
      napi_throw_type_error(env, NULL, "nlTransactMany: each batch is [fd, request, firstSeq, count, timeoutMs]");
      return NULL;
    }
    j->nl_items[i].bytes = bytes;
    j->nl_items[i].len = len;
    j->nl_items[i].first_seq = (uint32_t)first_seq;
    j->nl_items[i].count = (uint32_t)number;
    napi_create_reference(env, buf, 1, &j->nl_keep[i]);
  }
  return queue(env, j, "switchyard.nlTransactMany");
}

/* icmpEcho(fd, family, dst: Buffer, ident, timeoutMs, intervalMs): Promise<microseconds | null> */
static napi_value icmp_echo_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  job *j = new_job(JOB_ICMP);
  void *dst;
  size_t len;
  int interval;
  if (!get_int(env, argv[0], &j->a) || !get_int(env, argv[1], &j->b) ||
      napi_get_buffer_info(env, argv[2], &dst, &len) != napi_ok || !get_int(env, argv[3], &j->c) ||
      !get_int(env, argv[4], &j->d) || !get_int(env, argv[5], &interval) ||
      len != (j->b == AF_INET ? 4u : 16u)) {
    free_job(env, j);
    napi_throw_type_error(env, NULL, "icmpEcho: (fd, family, dst, ident, timeoutMs, intervalMs)");
    return NULL;
  }
  memcpy(j->addr, dst, len);
  j->u1 = (uint32_t)interval;
  return queue(env, j, "switchyard.icmpEcho");
}

/* threadSleeps(): number — how many times the calling thread has given up the CPU to wait (voluntary
 * context switches, getrusage RUSAGE_THREAD); being preempted does not count. */
static napi_value thread_sleeps_js(napi_env env, napi_callback_info info) {
  struct rusage usage;
  double count = getrusage(RUSAGE_THREAD, &usage) == 0 ? (double)usage.ru_nvcsw : 0;
  napi_value value;
  napi_create_double(env, count, &value);
  return value;
}

/* makeSharedMountpoint(dir: string): void (throws) */
static napi_value make_shared_js(napi_env env, napi_callback_info info) {
  char *dir = string_arg(env, info, "makeSharedMountpoint: (dir: string)");
  if (!dir) return NULL;
  int rc = make_shared_mountpoint(dir);
  free(dir);
  if (rc < 0) napi_throw(env, make_error(env, -rc, "make shared mount point"));
  return NULL;
}

/* lockFile(path: string): number (throws, errno EAGAIN/EACCES when held). Synchronous: it never waits. */
static napi_value lock_file_js(napi_env env, napi_callback_info info) {
  char *path = string_arg(env, info, "lockFile: (path: string)");
  if (!path) return NULL;
  int rc = lock_file(path);
  free(path);
  if (rc < 0) {
    napi_throw(env, make_error(env, -rc, "lock file"));
    return NULL;
  }
  napi_value fd;
  napi_create_int32(env, rc, &fd);
  return fd;
}

/* lockHolder(path: string): number (0 nobody, a pid, -1 an OFD lock; throws) */
static napi_value lock_holder_js(napi_env env, napi_callback_info info) {
  char *path = string_arg(env, info, "lockHolder: (path: string)");
  if (!path) return NULL;
  int holder = 0;
  int rc = lock_holder(path, &holder);
  free(path);
  if (rc < 0) {
    napi_throw(env, make_error(env, -rc, "query file lock"));
    return NULL;
  }
  napi_value value;
  napi_create_int32(env, holder, &value);
  return value;
}

static napi_value init(napi_env env, napi_value exports) {
  /* Kernel work runs on libuv workers and fresh threads, and glibc gives each thread its own arena
   * by default, each keeping what it freed: with libnftables and netlink buffers allocated there, a
   * long-running engine's resident memory grew by ~15 MB at 1000 endpoints (docs/benchmarks.md). Two
   * arenas are plenty for this process's native work. */
  mallopt(M_ARENA_MAX, 2);
  cpu_split_init();
  napi_property_descriptor props[] = {
      {"nsCreate", NULL, ns_create, NULL, NULL, NULL, napi_default, NULL},
      {"nsCreateNow", NULL, ns_create_now, NULL, NULL, NULL, napi_default, NULL},
      {"socketInNow", NULL, socket_in_now_js, NULL, NULL, NULL, napi_default, NULL},
      {"nlTransactNow", NULL, nl_transact_now_js, NULL, NULL, NULL, napi_default, NULL},
      {"nsRemove", NULL, ns_remove, NULL, NULL, NULL, napi_default, NULL},
      {"socketIn", NULL, socket_in_js, NULL, NULL, NULL, napi_default, NULL},
      {"writeFileIn", NULL, write_in_js, NULL, NULL, NULL, napi_default, NULL},
      {"nlTransact", NULL, nl_transact_js, NULL, NULL, NULL, napi_default, NULL},
      {"nftRun", NULL, nft_run_js, NULL, NULL, NULL, napi_default, NULL},
      {"nftRunNow", NULL, nft_run_now_js, NULL, NULL, NULL, napi_default, NULL},
      {"nlTransactMany", NULL, nl_transact_many_js, NULL, NULL, NULL, napi_default, NULL},
      {"icmpEcho", NULL, icmp_echo_js, NULL, NULL, NULL, napi_default, NULL},
      {"threadSleeps", NULL, thread_sleeps_js, NULL, NULL, NULL, napi_default, NULL},
      {"makeSharedMountpoint", NULL, make_shared_js, NULL, NULL, NULL, napi_default, NULL},
      {"lockFile", NULL, lock_file_js, NULL, NULL, NULL, napi_default, NULL},
      {"lockHolder", NULL, lock_holder_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
