import test from 'ava';
import { checkInterfaceName, MAX_INTERFACE_NAME_BYTES } from '../../src/netlink/names.js';
import { ValidationError } from '../../src/netlink/errors.js';

test('names of 1 to 15 bytes made of ordinary characters are accepted', (t) => {
  t.is(MAX_INTERFACE_NAME_BYTES, 15);
  for (const name of ['a', 'eth0', 'br-5f3a2c1d9e0b', 'x'.repeat(15), 'veth.100', 'a_b-c@d', '...', '.a']) {
    t.notThrows(() => checkInterfaceName(name), name);
  }
});

test('a 16-byte name is refused and the error gives its size and the limit', (t) => {
  const error = t.throws(() => checkInterfaceName('x'.repeat(16)), { instanceOf: ValidationError });
  t.is(error?.message, `name: interface name "${'x'.repeat(16)}" is 16 bytes, the limit is 15`);
});

test('the limit counts UTF-8 bytes, not characters', (t) => {
  // 'é' is two bytes: eight of them are 8 characters but 16 bytes.
  const tooLong = 'é'.repeat(8);
  t.is(tooLong.length, 8);
  const error = t.throws(() => checkInterfaceName(tooLong), { instanceOf: ValidationError });
  t.regex(error!.message, /is 16 bytes, the limit is 15/);
  t.notThrows(() => checkInterfaceName(`${'é'.repeat(7)}x`), '15 bytes in 8 characters fits');
  t.throws(() => checkInterfaceName(`${'x'.repeat(12)}🙂`), { instanceOf: ValidationError }, 'a 4-byte character past byte 12');
});

test('an empty name is refused', (t) => {
  const error = t.throws(() => checkInterfaceName(''), { instanceOf: ValidationError });
  t.is(error?.message, 'name: interface name must not be empty');
});

test("'.' and '..' are refused as reserved", (t) => {
  for (const name of ['.', '..']) {
    const error = t.throws(() => checkInterfaceName(name), { instanceOf: ValidationError }, name);
    t.regex(error!.message, /is reserved$/);
  }
});

test("'/', ':', whitespace and control characters are refused", (t) => {
  for (const name of ['a/b', '/', 'eth0:1', ':', 'a b', ' a', 'a ', 'a\tb', 'a\nb', 'a\u0000b', 'a\u001fb']) {
    const error = t.throws(() => checkInterfaceName(name), { instanceOf: ValidationError }, JSON.stringify(name));
    t.regex(error!.message, /must not contain/, JSON.stringify(name));
  }
});

test('the error names the field it was given', (t) => {
  for (const bad of ['', '.', 'a/b', 'x'.repeat(16)]) {
    const error = t.throws(() => checkInterfaceName(bad, 'peer.name'), { instanceOf: ValidationError }, JSON.stringify(bad));
    t.is(error?.field, 'peer.name');
    t.true(error!.message.startsWith('peer.name: '), error!.message);
  }
});
