/** Docker's `-p` syntax and the checks on published ports, without the kernel. */
import test from 'ava';
import { checkPorts, parsePublish } from '../../src/cnm/ports.js';

test('-p forms parse as docker parses them', (t) => {
  t.deepEqual(parsePublish('80'), [{ proto: 'tcp', hostIp: '', hostPort: 0, port: 80 }], 'container port only: the kernel picks the host port');
  t.deepEqual(parsePublish('8080:80'), [{ proto: 'tcp', hostIp: '', hostPort: 8080, port: 80 }]);
  t.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 8080, port: 80 }]);
  t.deepEqual(parsePublish('127.0.0.1::80'), [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0, port: 80 }]);
  t.deepEqual(parsePublish('[::1]:8080:80'), [{ proto: 'tcp', hostIp: '::1', hostPort: 8080, port: 80 }]);
  t.deepEqual(parsePublish('[2001:db8::1]::53/udp'), [{ proto: 'udp', hostIp: '2001:db8::1', hostPort: 0, port: 53 }]);
  t.deepEqual(parsePublish('8000-8002:80-82'), [
    { proto: 'tcp', hostIp: '', hostPort: 8000, port: 80 },
    { proto: 'tcp', hostIp: '', hostPort: 8001, port: 81 },
    { proto: 'tcp', hostIp: '', hostPort: 8002, port: 82 },
  ]);
  t.deepEqual(parsePublish('8000-8010:80'), [{ proto: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8010, port: 80 }], 'one container port, a host range: the first free of it');
  t.deepEqual(parsePublish('80-81/udp'), [
    { proto: 'udp', hostIp: '', hostPort: 0, port: 80 },
    { proto: 'udp', hostIp: '', hostPort: 0, port: 81 },
  ]);
});

test('bad -p values are refused naming the rule', (t) => {
  const refused = (text: string, pattern: RegExp) => t.regex(t.throws(() => parsePublish(text, 'publish[0]'))!.message, pattern, text);
  refused('8080:80/sctp', /^publish\[0\]: protocol "sctp" .* is not tcp or udp/);
  refused('70000:80', /host port "70000" is not a port \(1-65535\)/);
  refused('8080:0', /container port "0" is not a port/);
  refused('8000-8001:80-82', /host range \(2 ports\) and the container range \(3 ports\) differ in length/);
  refused('8010-8000:80', /host port range "8010-8000" ends before it starts/);
  refused('::1:8080:80', /IPv6 host address goes in brackets/);
  refused('[::1:8080:80', /written \[ADDRESS\]:HOSTPORT:PORT/);
  refused('[10.0.0.1]:8080:80', /"10.0.0.1" is not an IPv6 address/);
  refused('300.1.1.1:8080:80', /"300.1.1.1" is not an IP address/);
  refused('a:80', /host port "a" is not a port/);
  refused('80:b', /container port "b" is not a port/);
});

test('checkPorts fills defaults and refuses wrong types and clashes, naming the field', (t) => {
  t.deepEqual(checkPorts([{ port: 80 }]), [{ proto: 'tcp', hostIp: '', hostPort: 0, port: 80 }]);
  const refused = (ports: unknown, pattern: RegExp) => t.regex(t.throws(() => checkPorts(ports))!.message, pattern);
  refused('80', /^ports: must be a list/);
  refused([7], /^ports\[0\]: must be an object/);
  refused([{ port: '80' }], /^ports\[0\]\.port: "80" is not a port \(1-65535\)/);
  refused([{ port: 80, hostPort: 8080.5 }], /^ports\[0\]\.hostPort: 8080.5 is not a port/);
  refused([{ port: 80, proto: 'icmp' }], /^ports\[0\]\.proto: "icmp" is not tcp or udp/);
  refused([{ port: 80, hostIp: 'localhost' }], /^ports\[0\]\.hostIp: "localhost" is not an IP address/);
  refused([{ port: 80, hostPort: 9000, hostPortEnd: 8000 }], /^ports\[0\]\.hostPortEnd: 8000 must not be below hostPort/);
  refused([{ port: 80, hostPort: 8080 }, { port: 81, hostPort: 8080, hostIp: '10.0.0.1' }], /^ports\[1\]: host port 8080\/tcp is already published by ports\[0\]/);
  refused([{ port: 80, hostPort: 8080, hostIp: '::' }, { port: 81, hostPort: 8080 }], /^ports\[1\]: host port 8080\/tcp is already published by ports\[0\]/);
  // Not clashes: other protocol, other family, other single addresses.
  t.is(checkPorts([{ port: 80, hostPort: 8080 }, { port: 80, hostPort: 8080, proto: 'udp' }]).length, 2);
  t.is(checkPorts([{ port: 80, hostPort: 8080, hostIp: '0.0.0.0' }, { port: 81, hostPort: 8080, hostIp: '::' }]).length, 2);
  t.is(checkPorts([{ port: 80, hostPort: 8080, hostIp: '10.0.0.1' }, { port: 81, hostPort: 8080, hostIp: '10.0.0.2' }]).length, 2);
});
