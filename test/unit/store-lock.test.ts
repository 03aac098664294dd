/**
 * The data-root lock: one engine per data root, the holder named in the refusal, and a lock that
 * dies with its process.
 */
import test from 'ava';
import { closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../native/index.js';
import { CnmError } from '../../src/cnm/errors.js';
import { SqliteStore, lockDataRoot } from '../../src/store/index.js';
import { scratchDirectory, spawnStoreChild } from '../fixtures/store-scratch.js';

test('a second open in another process is refused with a conflict naming the holder; after the holder is killed with SIGKILL, opening succeeds', async (t) => {
  const dataRoot = scratchDirectory(t);
  const holder = spawnStoreChild(t, 'hold', dataRoot);
  await holder.waitForLine((line) => line === 'ready');

  const error = await t.throwsAsync(SqliteStore.open(dataRoot), { instanceOf: CnmError });
  t.is(error?.category, 'conflict');
  t.is(error?.message, `data root ${dataRoot} is in use by process ${holder.process.pid} (${holder.commandLine})`);
  t.is(readFileSync(path.join(dataRoot, 'engine.lock'), 'utf8'), `${holder.process.pid}\n`);

  holder.process.kill('SIGKILL');
  t.is((await holder.exited).signal, 'SIGKILL');
  // The file still names the dead holder; the kernel released its lock all the same.
  t.is(readFileSync(path.join(dataRoot, 'engine.lock'), 'utf8'), `${holder.process.pid}\n`);
  const store = await SqliteStore.open(dataRoot);
  t.teardown(() => store.close());
  t.is(readFileSync(path.join(dataRoot, 'engine.lock'), 'utf8'), `${process.pid}\n`);
});

test('a second open in the same process is refused too (the lock belongs to the open file description)', async (t) => {
  const dataRoot = scratchDirectory(t);
  const first = await SqliteStore.open(dataRoot);
  const error = await t.throwsAsync(SqliteStore.open(dataRoot), { instanceOf: CnmError });
  t.is(error?.category, 'conflict');
  t.regex(error?.message ?? '', new RegExp(`^data root ${dataRoot} is in use by process ${process.pid} \\(`));
  await first.close();
  const second = await SqliteStore.open(dataRoot);
  t.teardown(() => second.close());
  t.pass();
});

test('the lock file holds the holder pid while held and is emptied on release; F_OFD_GETLK sees the lock but no pid', (t) => {
  const dataRoot = scratchDirectory(t);
  const lockPath = path.join(dataRoot, 'engine.lock');
  t.is(native().lockHolder(lockPath), 0, 'no file, no holder');
  const lock = lockDataRoot(dataRoot);
  t.is(lock.path, lockPath);
  t.is(lock.dataRoot, dataRoot);
  t.is(readFileSync(lockPath, 'utf8'), `${process.pid}\n`);
  t.is(native().lockHolder(lockPath), -1, 'an OFD lock has no owning pid');
  t.throws(() => lockDataRoot(dataRoot), { instanceOf: CnmError, message: new RegExp(`in use by process ${process.pid} `) });
  lock.release();
  lock.release();
  t.is(native().lockHolder(lockPath), 0);
  t.is(readFileSync(lockPath, 'utf8'), '');
  const again = lockDataRoot(dataRoot);
  again.release();
});

test('a lock held before its pid is written is still refused, without naming a wrong process', (t) => {
  const dataRoot = scratchDirectory(t);
  const lockPath = path.join(dataRoot, 'engine.lock');
  // A raw lock with no pid in the file: the state between a holder's lock and its write.
  const fd = native().lockFile(lockPath);
  t.teardown(() => closeSync(fd));
  const started = Date.now();
  t.throws(() => lockDataRoot(dataRoot), {
    instanceOf: CnmError,
    message: `data root ${dataRoot} is in use by another process (no live pid recorded in ${lockPath})`,
  });
  t.true(Date.now() - started >= 400, 'it waited for the holder to write its pid');
});

test('lockDataRoot reports a data root that does not exist as such', (t) => {
  const dataRoot = path.join(scratchDirectory(t), 'missing');
  t.throws(() => lockDataRoot(dataRoot), { message: `lock data root ${dataRoot}: lock file: no such file or directory (ENOENT)` });
});
