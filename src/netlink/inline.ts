/**
 * When kernel calls run on the JS thread. Every netlink request, namespace and socket used to go to
 * a worker thread and come back through the event loop: two thread hand-offs, each waiting for a
 * vCPU to wake when the machine is idle (a request that does nothing: p50 0.24 ms, p99 2.9 ms on a
 * 2-vCPU VM, against 0.05 / 0.46 ms on the JS thread; docs/benchmarks.md). So a call the kernel
 * answers at once (rtnetlink answers inside sendmsg) is made right on the JS thread when no worker
 * job is under way; while workers are busy (many calls in flight) calls go to them as before, where
 * several sockets' batches share one hand-off and the JS thread stays free.
 *
 * Kept off the JS thread whatever the load: requests marked blocking (deletes, which wait for RCU;
 * moves between namespaces; links going down), dumps, and big batches. A call that can still wait in
 * the kernel is one that finds rtnl_lock held (namespace cleanup holds it for long): when an inline
 * call took longer than STALL_MS and the thread slept in it (a voluntary context switch: waiting for
 * a lock, not being preempted, which on this VM alone takes a call past 5 ms now and then), calls go
 * to workers for PAUSE_MS, so one stall is not repeated call after call.
 */
import { performance } from 'node:perf_hooks';
import { native } from '../../native/index.js';

/** An inline call that slept this long means the kernel made it wait (rtnl_lock): stop inlining for a while. */
const STALL_MS = 5;
const PAUSE_MS = 1000;
/** At most this many requests in one inline batch (each one is kernel work done on the JS thread). */
export const INLINE_MAX_BATCH = 16;

let enabled = process.env.SWITCHYARD_KERNEL_CALLS !== 'worker';
let busy = 0;
let pausedUntil = 0;

/** Whether a call may run on the JS thread now. */
export function inlineAllowed(): boolean {
  return enabled && busy === 0 && (pausedUntil === 0 || performance.now() >= pausedUntil);
}

/** Run a kernel call on the JS thread, noting a stall. */
export function inline<T>(call: () => T): T {
  const sleeps = native().threadSleeps();
  const t0 = performance.now();
  try {
    return call();
  } finally {
    const t1 = performance.now();
    if (t1 - t0 > STALL_MS && native().threadSleeps() > sleeps) pausedUntil = t1 + PAUSE_MS;
  }
}

/** Count a worker job while it is under way (calls stay on workers meanwhile). */
export function onWorker<T>(job: Promise<T>): Promise<T> {
  busy++;
  return job.finally(() => busy--);
}

/**
 * Turn inline kernel calls off (every call on a worker, as before) or back on; on also ends a pause
 * after a stall. Also set by SWITCHYARD_KERNEL_CALLS=worker in the environment.
 */
export function setInlineKernelCalls(on: boolean): void {
  enabled = on;
  if (on) pausedUntil = 0;
}
