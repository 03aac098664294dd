import test from 'ava';
import { errnoName, errnoText, fromNative, isExists, isNotFound, isNotSupported, KernelError, NetlinkError, ValidationError } from '../../src/netlink/errors.js';

test('a KernelError says what was being done, why it failed, and the errno name', (t) => {
  const error = new KernelError('add bridge link sy01br in the host namespace', 17);
  t.is(error.message, 'add bridge link sy01br in the host namespace: file exists (EEXIST)');
  t.is(error.name, 'KernelError');
  t.is(error.errno, 17);
  t.is(error.code, 'EEXIST');
  t.is(error.op, 'add bridge link sy01br in the host namespace');
  t.is(error.kernelMessage, undefined);
  t.true(error instanceof Error);
});

test("the kernel's own message is preferred, in lower case without its trailing period", (t) => {
  const error = new KernelError('add route default via 10.81.99.1', 101, 'Nexthop has invalid gateway.');
  t.is(error.message, 'add route default via 10.81.99.1: nexthop has invalid gateway (ENETUNREACH)');
  t.is(error.kernelMessage, 'Nexthop has invalid gateway.', 'the original text is kept');
  t.is(new KernelError('add link x', 95, 'Unknown device type').message, 'add link x: unknown device type (EOPNOTSUPP)');
  t.is(new KernelError('add link x', 22, '').message, 'add link x: invalid argument (EINVAL)', 'an empty kernel message falls back to the errno text');
});

test('an errno without a description falls back to its number', (t) => {
  t.is(errnoName(4095), 'E4095');
  t.is(errnoText(4095), 'error 4095');
  t.is(new KernelError('op', 4095).message, 'op: error 4095 (E4095)');
});

test("errnoName gives the kernel's name for an errno, including ones Node lacks", (t) => {
  t.is(errnoName(1), 'EPERM');
  t.is(errnoName(2), 'ENOENT');
  t.is(errnoName(3), 'ESRCH');
  t.is(errnoName(11), 'EAGAIN');
  t.is(errnoName(16), 'EBUSY');
  t.is(errnoName(17), 'EEXIST');
  t.is(errnoName(19), 'ENODEV');
  t.is(errnoName(22), 'EINVAL');
  t.is(errnoName(54), 'EXFULL');
  t.is(errnoName(95), 'EOPNOTSUPP');
  t.is(errnoName(99), 'EADDRNOTAVAIL');
  t.is(errnoName(101), 'ENETUNREACH');
  t.is(errnoText(11), 'resource temporarily unavailable');
  t.is(errnoText(54), 'exchange full (a bridge takes at most 1023 ports)');
});

test('isNotFound, isExists and isNotSupported classify kernel errors by errno', (t) => {
  const cases: Array<[number, boolean, boolean, boolean]> = [
    // errno, not found, exists, not supported
    [19, true, false, false], // ENODEV: no such link
    [2, true, false, false], // ENOENT: no such neighbour
    [3, true, false, false], // ESRCH: no such route
    [99, true, false, false], // EADDRNOTAVAIL: no such address
    [17, false, true, false], // EEXIST
    [95, false, false, true], // EOPNOTSUPP
    [93, false, false, true], // EPROTONOSUPPORT
    [97, false, false, true], // EAFNOSUPPORT
    [22, false, false, false], // EINVAL
    [1, false, false, false], // EPERM
  ];
  for (const [errno, notFound, exists, notSupported] of cases) {
    for (const error of [new KernelError('op', errno), new NetlinkError('op', errno, 'kernel text')]) {
      t.is(isNotFound(error), notFound, `isNotFound ${error.code}`);
      t.is(isExists(error), exists, `isExists ${error.code}`);
      t.is(isNotSupported(error), notSupported, `isNotSupported ${error.code}`);
    }
  }
});

test('only kernel errors are classified, whatever their code says', (t) => {
  const lookalike = Object.assign(new Error('file exists'), { code: 'EEXIST', errno: 17 });
  for (const error of [lookalike, new ValidationError('name', 'bad'), undefined, null, 'ENODEV', { code: 'ENODEV' }]) {
    t.false(isNotFound(error));
    t.false(isExists(error));
    t.false(isNotSupported(error));
  }
});

test('a NetlinkError is a KernelError with its own name', (t) => {
  const error = new NetlinkError('delete link sy01v0 in the host namespace', 19);
  t.true(error instanceof KernelError);
  t.is(error.name, 'NetlinkError');
  t.is(error.message, 'delete link sy01v0 in the host namespace: no such device (ENODEV)');
});

test('a ValidationError names the field first and keeps it', (t) => {
  const error = new ValidationError('gateway', 'fd81::1 is not of the same family as 10.0.0.0/24');
  t.is(error.message, 'gateway: fd81::1 is not of the same family as 10.0.0.0/24');
  t.is(error.field, 'gateway');
  t.is(error.name, 'ValidationError');
  t.false(error instanceof KernelError);
});

test('fromNative turns a native rejection into a KernelError naming the operation and step', (t) => {
  const withStep = fromNative('create sandbox a', { errno: 2, step: 'mount nsfs' });
  t.true(withStep instanceof KernelError);
  t.is(withStep.message, 'create sandbox a: mount nsfs: no such file or directory (ENOENT)');
  t.is(fromNative('open socket', { errno: 1 }).message, 'open socket: operation not permitted (EPERM)');
  const plain = new Error('something else');
  t.is(fromNative('op', plain), plain, 'an error without errno passes through');
  t.is(fromNative('op', 'text').message, 'text');
});
