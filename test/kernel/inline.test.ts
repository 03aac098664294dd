/**
 * Kernel calls made on the JS thread (src/netlink/inline.ts): which ones, that the thread is back in
 * its own namespace afterwards, and that requests the kernel has not answered yet are reported as
 * such. Serial: whether a call runs inline depends on what else the process has under way.
 */
import test from 'ava';
import { closeSync, readlinkSync } from 'node:fs';
import { scratch } from '../helpers/scratch.js';
import { Handle, linkAdd, linkByName, linkDel, linkList, setInlineKernelCalls } from '../../src/netlink/index.js';
import { native } from '../../native/index.js';

const ownNamespace = () => readlinkSync('/proc/thread-self/ns/net');

test.serial('with nothing under way a request is answered on the JS thread; a link delete never is', async (t) => {
  const s = await scratch(t);
  const stats = s.host.socket.stats;
  // A call that took long on a loaded machine pauses inlining for a second: start from none.
  setInlineKernelCalls(true);
  const before = { ...stats };
  await linkAdd(s.host, { kind: 'bridge', name: s.name('br') });
  t.is(stats.inline - before.inline, 1, 'the create ran inline');
  const beforeDelete = { ...stats };
  await linkDel(s.host, s.name('br'));
  t.is(stats.requests - beforeDelete.requests, 1);
  t.is(stats.inline, beforeDelete.inline, 'the delete went to a worker');
  await s.assertClean(t);
});

test.serial('setInlineKernelCalls(false) sends every request to a worker, true brings them back', async (t) => {
  const s = await scratch(t);
  const stats = s.host.socket.stats;
  setInlineKernelCalls(false);
  try {
    const before = stats.inline;
    await linkByName(s.host, 'lo');
    t.is(stats.inline, before);
  } finally {
    setInlineKernelCalls(true);
  }
  const before = stats.inline;
  await linkByName(s.host, 'lo');
  t.is(stats.inline, before + 1);
  await s.assertClean(t);
});

test.serial('a sandbox made and a socket opened from the JS thread leave it in its own namespace', async (t) => {
  const s = await scratch(t);
  const home = ownNamespace();
  const sandbox = await s.sandboxes.create({ name: s.name('a'), handle: true });
  t.is(ownNamespace(), home, 'back home after the create');
  const inside = await Handle.open({ netnsPath: sandbox.path });
  t.is(ownNamespace(), home, 'back home after opening a socket inside');
  // Both sockets are inside the sandbox: it has its loopback and nothing else.
  for (const handle of [sandbox.handle!, inside]) t.deepEqual((await linkList(handle)).map((link) => link.name), ['lo']);
  inside.close();
  await s.sandboxes.delete(sandbox);
  await s.assertClean(t);
});

test.serial('nlTransactNow hands back what came and how many requests it finishes when some are unanswered', async (t) => {
  const fd = native().socketInNow(null, 16 /* AF_NETLINK */, 3 /* SOCK_RAW */, 0 /* NETLINK_ROUTE */);
  try {
    // One RTM_GETLINK for index 1 (lo) with seq 100, announced as two requests (100 and 101).
    const message = Buffer.alloc(32);
    message.writeUInt32LE(32, 0);
    message.writeUInt16LE(18 /* RTM_GETLINK */, 4);
    message.writeUInt16LE(0x1 | 0x4 /* REQUEST | ACK */, 6);
    message.writeUInt32LE(100, 8);
    message.writeInt32LE(1, 20); // ifinfomsg.ifi_index
    const result = native().nlTransactNow(fd, message, 100, 2);
    t.true(Array.isArray(result));
    const [replies, finals] = result as [Buffer, number];
    t.is(finals, 1, 'the one request sent is finished');
    t.true(replies.length > 0);
    t.is(replies.readUInt16LE(4), 16 /* RTM_NEWLINK */, 'lo itself came back first');
  } finally {
    closeSync(fd);
  }
});
