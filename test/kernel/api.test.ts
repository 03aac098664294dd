/**
 * The daemon, the engine API and the yard CLI, driven as users drive them: a real `yard daemon`
 * process, the `yard` CLI, raw HTTP over the socket. Bad input over both gets a clear error, the
 * right status or exit code, and changes nothing.
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import os from 'node:os';
import { dataRootOf } from '../helpers/engine.js';
import { scratch } from '../helpers/scratch.js';
import { YARD, daemonArgs, removeEverything, run, startDaemon } from '../helpers/daemon.js';
import { ip, ipJson, ping } from '../helpers/ip.js';

test('the CLI creates, lists, inspects, connects, disconnects and removes networks with docker flags', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  t.is((statSync(d.socket).mode & 0o777).toString(8), '660', 'the socket is mode 0660');

  // The default networks, as Docker's.
  const names = await d.yard(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
  t.is(names.code, 0, names.stderr);
  t.deepEqual(names.stdout.trim().split('\n').sort(), ['bridge bridge local', 'host host local', 'none null local']);

  const create = await d.yard(['network', 'create', '--subnet', '10.170.0.0/24', '--ip-range', '10.170.0.128/25', '--gateway', '10.170.0.254', '--aux-address', 'router=10.170.0.200', '--label', 'team=red', '-o', 'com.docker.network.bridge.enable_icc=false', 'web']);
  t.is(create.code, 0, create.stderr);
  t.regex(create.stdout, /^[0-9a-f]{64}\n$/, 'prints the new id');
  const id = create.stdout.trim();

  const inspect = await d.yard(['network', 'inspect', '--format', '{{json .IPAM.Config}} {{.Labels}} {{index .Options "com.docker.network.bridge.enable_icc"}}', 'web']);
  t.is(inspect.stdout.trim(), '[{"Subnet":"10.170.0.0/24","IPRange":"10.170.0.128/25","Gateway":"10.170.0.254","AuxiliaryAddresses":{"router":"10.170.0.200"}}] map[team:red] false');
  const full = JSON.parse((await d.yard(['network', 'inspect', 'web'])).stdout);
  t.is(full.length, 1);
  t.is(full[0].Id, id);

  const quiet = await d.yard(['network', 'ls', '-q', '--filter', 'label=team=red']);
  t.is(quiet.stdout.trim(), id.slice(0, 12), 'ls -q with a label filter: the short id');
  const noTrunc = await d.yard(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=web']);
  t.is(noTrunc.stdout.trim(), id);

  t.is((await d.yard(['sandbox', 'create', s.name('a')])).code, 0);
  const connect = await d.yard(['network', 'connect', '--ip', '10.170.0.130', '--alias', 'www', 'web', s.name('a')]);
  t.is(connect.code, 0, connect.stderr);
  const sandbox = JSON.parse((await d.yard(['sandbox', 'inspect', s.name('a')])).stdout)[0];
  t.is(sandbox.Networks.web.IPAddress, '10.170.0.130');
  t.deepEqual(sandbox.Networks.web.Aliases, ['www']);
  t.true(ping(s.name('a'), '10.170.0.254'), 'the sandbox reaches its gateway');
  // MACs as Docker makes them, 02:42 then the IPv4 address: the endpoint's, and the bridge's from its gateway.
  t.is(ipJson<Array<{ address: string }>>(['link', 'show', 'dev', 'eth0'], s.name('a'))[0]!.address, '02:42:0a:aa:00:82');
  const gatewayLink = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>(['-4', 'addr', 'show']).find((l) => l.addr_info.some((a) => a.local === '10.170.0.254'))!.ifname;
  t.is(ipJson<Array<{ address: string }>>(['link', 'show', 'dev', gatewayLink])[0]!.address, '02:42:0a:aa:00:fe', `the bridge ${gatewayLink}`);
  const exec = await d.yard(['sandbox', 'exec', s.name('a'), 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  t.regex(exec.stdout, /inet 10\.170\.0\.130\/24/, 'sandbox exec runs inside');
  // Its exit status comes through, and a command killed by a signal exits 128 + the signal, as in a shell.
  t.is((await d.yard(['sandbox', 'exec', s.name('a'), 'sh', '-c', 'exit 7'])).code, 7);
  t.is((await d.yard(['sandbox', 'exec', s.name('a'), 'sh', '-c', 'kill -INT $$'])).code, 130);
  const containers = await d.yard(['network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$c.Name}} {{$c.IPv4Address}}{{end}}', 'web']);
  t.is(containers.stdout.trim(), `${s.name('a')} 10.170.0.130/24`);

  // In use: rm refused (exit code 5, forbidden); disconnect -f, then rm prints the name.
  const inUse = await d.yard(['network', 'rm', 'web']);
  t.is(inUse.code, 5);
  t.regex(inUse.stderr, /^Error response from daemon: error while removing network: network web id [0-9a-f]{64} has active endpoints/);
  t.is((await d.yard(['network', 'disconnect', '-f', 'web', s.name('a')])).code, 0);
  const rm = await d.yard(['network', 'rm', 'web']);
  t.deepEqual([rm.code, rm.stdout], [0, 'web\n']);

  // prune: only unused custom networks, names printed; predefined ones stay.
  await d.yard(['network', 'create', 'spare1']);
  await d.yard(['network', 'create', 'spare2']);
  const prune = await d.yard(['network', 'prune', '-f']);
  t.is(prune.code, 0, prune.stderr);
  t.deepEqual(prune.stdout.trim().split('\n'), ['Deleted Networks:', 'spare1', 'spare2']);
  const declined = await d.yard(['network', 'prune'], 'n\n');
  t.is(declined.code, 0);
  t.is((await d.yard(['sandbox', 'rm', s.name('a')])).stdout, `${s.name('a')}\n`);
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});

test('the rest of the CLI: --ipv6 with and without a subnet, --internal, --attachable, --ipam-opt, connect --ip6 and a sandbox by id, sandbox ls, the default bridge', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  const ok = async (args: string[]) => {
    const result = await d.yard(args);
    t.is(result.code, 0, `yard ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  // The default bridge: a default pool of Docker's, its gateway on the bridge --bridge named.
  const [subnet, gateway, bridge] = (await ok(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{index .Options "com.docker.network.bridge.name"}}', 'bridge'])).trim().split(' ');
  t.regex(subnet!, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/, 'a default pool');
  t.is(bridge, s.name('br0'));
  const onBridge = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(['-4', 'addr', 'show', 'dev', s.name('br0')]);
  t.deepEqual(onBridge[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`), [`${gateway}/${subnet!.split('/')[1]}`], 'its gateway is on the bridge');

  // --ipv6 without a subnet: an IPv4 pool and a ULA /64, as Docker 27.
  await ok(['network', 'create', '--ipv6', 'auto6']);
  const auto = (await ok(['network', 'inspect', '-f', '{{.EnableIPv6}}{{range .IPAM.Config}} {{.Subnet}}{{end}}', 'auto6'])).trim().split(' ');
  t.is(auto[0], 'true');
  t.is(auto.length, 3, auto.join(' '));
  t.regex(auto[2]!, /^fd[0-9a-f]{2}:[0-9a-f:]*\/64$/, 'a ULA /64 (fd00::/8)');

  // --ipv6 with subnets of both families; connect a sandbox by its id with --ip and --ip6.
  await ok(['network', 'create', '--ipv6', '--subnet', '10.176.0.0/24', '--subnet', 'fd00:176::/64', 'dual']);
  const id = (await ok(['sandbox', 'create', s.name('a')])).trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  await ok(['network', 'connect', '--ip', '10.176.0.10', '--ip6', 'fd00:176::10', 'dual', id.slice(0, 12)]);
  const at = (await ok(['sandbox', 'inspect', '-f', '{{with index .Networks "dual"}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}', id])).trim();
  t.is(at, '10.176.0.10 fd00:176::10');
  const inside = ipJson<Array<{ addr_info: Array<{ local: string; scope: string }> }>>(['-6', 'addr', 'show', 'dev', 'eth0'], s.name('a'));
  t.true(inside[0]!.addr_info.some((a) => a.local === 'fd00:176::10'), 'the IPv6 address is in the sandbox');
  t.true(ping(s.name('a'), 'fd00:176::1'), 'and reaches its IPv6 gateway');

  // sandbox ls: Docker's table shape, -q, --no-trunc, --filter, --format.
  const table = await ok(['sandbox', 'ls']);
  t.regex(table, /^SANDBOX ID +NAME +NETWORKS +PORTS\n/);
  t.regex(table, new RegExp(`\\n${id.slice(0, 12)} +${s.name('a')} +dual\\s*\\n`));
  t.is(await ok(['sandbox', 'ls', '-q', '--no-trunc', '--filter', `name=${s.name('a')}`]), `${id}\n`);
  t.is(await ok(['sandbox', 'ls', '--filter', `id=${id.slice(0, 8)}`, '--format', '{{.Name}} {{.Networks}}']), `${s.name('a')} dual\n`);
  t.is(await ok(['sandbox', 'ls', '-q', '--filter', 'name=nosuch']), '');

  // --internal, --attachable, --ipam-opt reach the network as Docker shows them.
  await ok(['network', 'create', '--internal', '--attachable', '--ipam-opt', 'com.example.note=kept', '--subnet', '10.177.0.0/24', 'inner']);
  t.is((await ok(['network', 'inspect', '-f', '{{.Internal}} {{.Attachable}} {{.EnableIPv6}} {{.IPAM.Options}}', 'inner'])).trim(), 'true true false map[com.example.note:kept]');
  t.is(await ok(['network', 'ls', '--filter', 'name=inner', '--format', '{{.Internal}} {{.IPv6}}']), 'true false\n');

  // Disconnect by id too; then nothing is left of the sandbox on the network.
  await ok(['network', 'disconnect', 'dual', id]);
  t.is((await ok(['network', 'inspect', '-f', '{{len .Containers}}', 'dual'])).trim(), '0');
  await ok(['sandbox', 'rm', id]);
  await ok(['network', 'rm', 'auto6', 'dual', 'inner']);
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});

test('daemon flags: --cgroup-parent is shown by /info, --log-level debug logs each request and warn drops info lines; bad values are refused before anything is made', async (t) => {
  const s = await scratch(t);
  for (const [flag, value, message] of [
    ['--log-level', 'loud', /--log-level: "loud" is not debug, info, warn or error/],
    ['--cgroup-parent', '../escape', /--cgroup-parent: "\.\.\/escape" is not a relative cgroup path/],
    ['--cgroup-parent', '/abs', /--cgroup-parent: "\/abs" is not a relative cgroup path/],
  ] as const) {
    // Roots of their own, so that nothing else can have made what is looked for below.
    const refused = await run(process.execPath, [YARD, 'daemon', '--host', `unix://${s.execRoot}/refused/yard.sock`, '--data-root', `${s.execRoot}/refused/data`, '--exec-root', `${s.execRoot}/refused/exec`, '--nft-prefix', `switchyard_${s.prefix}r`, '--bridge', s.name('r0'), flag, value]);
    t.is(refused.code, 2, `${flag} ${value}`);
    t.regex(refused.stderr, message);
  }
  t.false(existsSync(`${s.execRoot}/refused`), 'nothing was opened or made');
  t.is(ip(['link', 'show', 'dev', s.name('r0')]).status, 1, 'no bridge');

  const d = await startDaemon(t, s, ['--cgroup-parent', 'labs/red', '--log-level', 'debug']);
  t.is((await d.request('GET', '/info')).json().CgroupParent, 'labs/red');
  await d.yard(['network', 'create', 'logged']);
  const lines = d.log().trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string; method?: string; path?: string; status?: number; ms?: number });
  const created = lines.find((line) => line.msg === 'api request' && line.method === 'POST');
  t.like(created, { level: 'debug', path: '/v1.41/networks/create', status: 201 }, 'each request at debug level, as dockerd says "Calling POST …"');
  t.is(typeof created?.ms, 'number');
  await d.yard(['network', 'rm', 'logged']);
  t.is(await d.stop(), 0);

  // warn: no info lines (its readiness is seen on the socket instead).
  const quiet = await startDaemon(t, s, ['--log-level', 'warn']);
  await quiet.request('GET', '/networks');
  t.is(await quiet.stop(), 0);
  t.is(quiet.log(), '', 'nothing below warn');
});

test('yard demo, what npm run lab runs: through the daemon, two sandboxes on a bridge network ping each other; it says what it made and how to remove it', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  for (const round of ['first', 'again (rebuilt)']) {
    const demo = await d.yard(['demo']);
    t.is(demo.code, 0, `${round}: ${demo.stderr}`);
    t.regex(demo.stdout, /^  network +yard-demo \([0-9a-f]{12}\) +subnet \S+ +gateway \S+$/m, round);
    t.regex(demo.stdout, /^  ping +yard-demo-a -> [\d.]+: reply in [\d.]+ ms$/m, round);
    t.regex(demo.stdout, /^  ping +yard-demo-b -> [\d.]+: reply in [\d.]+ ms$/m, round);
    t.regex(demo.stdout, /yard sandbox exec yard-demo-a sh/);
    t.regex(demo.stdout, /Remove it all: +yard demo --remove/);
  }
  // What it says it made is there, as the daemon and iproute2 see it.
  t.is((await d.yard(['sandbox', 'ls', '--format', '{{.Name}} {{.Networks}}'])).stdout, 'yard-demo-a yard-demo\nyard-demo-b yard-demo\n');
  const b = JSON.parse((await d.yard(['sandbox', 'inspect', 'yard-demo-b'])).stdout)[0];
  t.true(ping('yard-demo-a', b.Networks['yard-demo'].IPAddress), 'ip netns exec yard-demo-a ping B');

  const removed = await d.yard(['demo', '--remove']);
  t.is(removed.code, 0, removed.stderr);
  t.is(removed.stdout, 'removed: sandbox yard-demo-a, sandbox yard-demo-b, network yard-demo\n');
  t.is((await d.yard(['sandbox', 'ls', '-q'])).stdout, '');
  t.is((await d.yard(['network', 'ls', '-q', '--filter', 'name=yard-demo'])).stdout, '');
  t.false(existsSync('/run/netns/yard-demo-a'), 'unpublished');
  t.is((await d.yard(['demo', '--remove'])).stdout, 'nothing to remove: the demo is not running\n');
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});

test('bad input over the CLI: a clear message, the exit code of its category, nothing changed', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  await d.yard(['network', 'create', '--subnet', '10.171.0.0/24', 'taken']);
  const before = await d.holdings();
  const cases: Array<[string[], number, RegExp]> = [
    [['network', 'create', '--subnet', '10.171.0.5/24', 'x'], 2, /has host bits set; did you mean 10\.171\.0\.0\/24/],
    [['network', 'create', '--subnet', 'banana', 'x'], 2, /"banana" is not a cidr/],
    [['network', 'create', '--subnet', '10.171.0.0/25', 'x'], 4, /overlaps network taken/],
    [['network', 'create', 'taken'], 4, /network with name taken already exists/],
    [['network', 'create', 'bridge'], 5, /operation is not permitted on predefined bridge network/],
    [['network', 'create', '-d', 'nosuch', 'x'], 3, /driver/],
    [['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', 'x'], 2, /enable_icc: "maybe" is not a boolean/],
    [['network', 'create', '--gateway', '10.9.9.9', 'x'], 2, /no matching subnet for gateway 10\.9\.9\.9/],
    [['network', 'create', '--nosuch', 'x'], 2, /unknown flag: --nosuch/],
    [['network', 'create'], 2, /requires exactly 1 argument/],
    [['network', 'create', 'bad/name'], 2, /name/],
    [['network', 'rm', 'none'], 5, /none is a pre-defined network and cannot be removed/],
    [['network', 'rm', 'nosuch'], 3, /network nosuch not found/],
    [['network', 'connect', 'taken', 'nosuch'], 3, /sandbox nosuch not found/],
    [['network', 'create', '-d', 'macvlan', 'x'], 2, /options\.parent: the macvlan driver needs -o parent=IF/],
    [['network', 'create', '-d', 'macvlan', '-o', `parent=${s.name('q')}.7`, 'x'], 2, new RegExp(`parent interface ${s.name('q')}\\.7 does not exist; its name is that of an 802\\.1q VLAN sub-interface .*; ${s.name('q')} does not exist either$`, 'm')],
    [['network', 'rm', 'host'], 5, /host is a pre-defined network and cannot be removed/],
    [['network', 'ls', '--filter', 'colour=red'], 2, /invalid filter 'colour'/],
    [['network', 'ls', '--filter', 'nofilter'], 2, /bad format of filter/],
    [['sandbox', 'create', '-p', '8080:80/sctp', 'x'], 2, /protocol "sctp"/],
    [['nosuch'], 2, /unknown command "nosuch"/],
  ];
  for (const [args, code, pattern] of cases) {
    const result = await d.yard(args);
    t.is(result.code, code, `yard ${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, pattern, `yard ${args.join(' ')}`);
  }
  t.deepEqual(await d.holdings(), before, 'nothing changed');
  await d.yard(['network', 'rm', 'taken']);
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});

test('bad input over the API: Docker status codes and JSON errors, nothing changed', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  const before = await d.holdings();
  const json = { 'Content-Type': 'application/json' };
  const cases: Array<[string, string, string | object | undefined, Record<string, string>, number, RegExp]> = [
    ['POST', '/networks/create', '{"Name": ', json, 400, /invalid JSON in request body/],
    ['POST', '/networks/create', { Name: 5 }, {}, 400, /^Name: 5 is not a string$/],
    ['POST', '/networks/create', { Name: 'x', Internal: 'yes' }, {}, 400, /^Internal: "yes" is not a boolean$/],
    ['POST', '/networks/create', { Name: 'x', Labels: { a: 1 } }, {}, 400, /^Labels\.a: 1 is not a string$/],
    ['POST', '/networks/create', { Name: 'x', IPAM: { Config: [{ Subnet: 7 }] } }, {}, 400, /^IPAM\.Config\[0\]\.Subnet: 7 is not a string$/],
    ['POST', '/networks/create', { Name: 'x', IPAM: { Config: {} } }, {}, 400, /^IPAM\.Config: \{\} is not a list$/],
    ['POST', '/networks/create', [], {}, 400, /^body: must be a JSON object$/],
    ['POST', '/networks/create', { Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64' }, { Subnet: '10.173.0.0/24', Gateway: '10.174.0.1' }] } }, {}, 400, /^IPAM\.Config\[1\]\.Gateway: gateway 10\.174\.0\.1 is not inside subnet 10\.173\.0\.0\/24$/],
    ['POST', '/networks/create', '{"Name":"x"}', { 'Content-Type': 'text/plain' }, 400, /Content-Type specified \(text\/plain\) must be 'application\/json'/],
    ['POST', '/networks/create', undefined, {}, 400, /got EOF while reading request body/],
    ['POST', '/networks/create', { Name: 'host' }, {}, 403, /operation is not permitted on predefined host network/],
    ['POST', '/networks/create', { Name: 'x', Driver: 'nosuch' }, {}, 404, /driver/],
    ['POST', '/networks/bridge/connect', { Container: 'nosuch' }, {}, 404, /sandbox nosuch not found/],
    ['POST', '/networks/bridge/connect', { Container: 5 }, {}, 400, /^Container: 5 is not a string$/],
    ['POST', '/networks/create', { Name: 'x', Driver: 'macvlan', Options: { parent: `${s.name('q')}.7` } }, {}, 400, /802\.1q VLAN sub-interface/],
    ['DELETE', '/networks/host', undefined, {}, 403, /host is a pre-defined network and cannot be removed/],
    ['DELETE', '/networks/bridge', undefined, {}, 403, /bridge is a pre-defined network and cannot be removed/],
    ['GET', '/networks/nosuch', undefined, {}, 404, /network nosuch not found/],
    ['GET', '/networks?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D', undefined, {}, 400, /invalid filter 'colour'/],
    ['GET', '/networks?filters=%7Bnot', undefined, {}, 400, /invalid filter/],
    ['GET', '/v1.99/networks', undefined, {}, 400, /client version 1\.99 is too new\. Maximum supported API version is 1\.41/],
    ['GET', '/v1.11/networks', undefined, {}, 400, /client version 1\.11 is too old/],
    ['GET', '/nosuch', undefined, {}, 404, /^page not found: GET \/nosuch is not served by Switchyard/],
    ['POST', '/sandboxes/create', { Name: 'x', Ports: ['99999:80'] }, {}, 400, /Ports\[0\]: host port "99999" is not a port/],
  ];
  for (const [method, url, body, headers, status, pattern] of cases) {
    const response = await d.request(method, url, body, headers);
    t.is(response.status, status, `${method} ${url}: ${response.body}`);
    t.is(response.headers['content-type'], 'application/json', `${method} ${url}: JSON error`);
    t.regex(response.json().message, pattern, `${method} ${url}`);
  }
  t.deepEqual(await d.holdings(), before, 'nothing changed');

  // What the docker CLI relies on: /_ping's headers (HEAD too), /version, both filter forms.
  const head = await d.request('HEAD', '/_ping');
  t.is(head.status, 200);
  t.is(head.headers['api-version'], '1.41');
  t.is(head.headers['ostype'], 'linux');
  t.is((await d.request('GET', '/_ping')).body, 'OK');
  t.is((await d.request('GET', '/v1.41/version')).json().ApiVersion, '1.41');
  const modern = (await d.request('GET', `/networks?filters=${encodeURIComponent('{"name":{"none":true}}')}`)).json();
  const legacy = (await d.request('GET', `/networks?filters=${encodeURIComponent('{"name":["none"]}')}`)).json();
  t.deepEqual(modern.map((n: { Name: string }) => n.Name), ['none']);
  t.deepEqual(legacy, modern);
  // Every list filter of Docker's: driver, id, name, label, scope, type, dangling.
  const used = (await d.request('POST', '/networks/create', { Name: 'used', Labels: { tier: 'web' } })).json().Id as string;
  await d.request('POST', '/networks/create', { Name: 'idle', Labels: { tier: 'db' } });
  await d.request('POST', '/sandboxes/create', { Name: s.name('f') });
  await d.request('POST', '/networks/used/connect', { Container: s.name('f') });
  const names = async (filters: object) => ((await d.request('GET', `/networks?filters=${encodeURIComponent(JSON.stringify(filters))}`)).json() as Array<{ Name: string }>).map((n) => n.Name).sort();
  t.deepEqual(await names({ driver: { null: true } }), ['none']);
  t.deepEqual(await names({ id: { [used.slice(0, 10)]: true } }), ['used'], 'an id prefix');
  t.deepEqual(await names({ name: { '^i': true } }), ['idle'], 'a name is a regular expression, as Go matches it');
  t.deepEqual(await names({ label: { 'tier=db': true } }), ['idle']);
  t.deepEqual(await names({ label: { tier: true } }), ['idle', 'used']);
  t.deepEqual(await names({ scope: { local: true } }), ['bridge', 'host', 'idle', 'none', 'used']);
  t.deepEqual(await names({ type: { builtin: true } }), ['bridge', 'host', 'none']);
  t.deepEqual(await names({ type: { custom: true } }), ['idle', 'used']);
  t.deepEqual(await names({ dangling: { true: true } }), ['idle'], 'unused custom networks');
  t.deepEqual(await names({ dangling: { false: true } }), ['bridge', 'host', 'none', 'used']);
  t.is((await d.request('GET', `/networks?filters=${encodeURIComponent('{"type":["other"]}')}`)).status, 400);
  await d.request('POST', '/networks/used/disconnect', { Container: s.name('f'), Force: true });
  await d.request('DELETE', `/sandboxes/${s.name('f')}`);
  for (const name of ['used', 'idle']) await d.request('DELETE', `/networks/${name}`);
  const created = await d.request('POST', '/networks/create', { Name: 'ok', CheckDuplicate: true });
  t.is(created.status, 201);
  t.deepEqual(Object.keys(created.json()).sort(), ['Id', 'Warning']);
  t.is((await d.request('DELETE', '/networks/ok')).status, 204);
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});

test('one daemon per data root; SIGTERM leaves sandboxes running and the next daemon adopts them', async (t) => {
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  await d.yard(['network', 'create', '--subnet', '10.172.0.0/24', 'keep']);
  await d.yard(['sandbox', 'create', s.name('a')]);
  await d.yard(['network', 'connect', 'keep', s.name('a')]);

  // A second daemon on the same data root refuses and names the holder.
  const second = await d.yard(['daemon', '--host', `unix://${s.execRoot}/other.sock`, '--data-root', `${s.execRoot}/data`, '--exec-root', s.execRoot, '--nft-prefix', `switchyard_${s.prefix}`]);
  t.is(second.code, 4);
  t.regex(second.stderr, new RegExp(`data root ${s.execRoot}/data is in use by process ${d.process.pid}`));

  t.is(await d.stop(), 0, 'SIGTERM: a clean exit');
  t.regex(d.log(), /"msg":"stopped: sandboxes, links and nft tables left as they are"/);
  t.true(ping(s.name('a'), '10.172.0.1'), 'the sandbox still reaches its gateway with no daemon');

  const again = await startDaemon(t, s);
  const sandbox = JSON.parse((await again.yard(['sandbox', 'inspect', s.name('a')])).stdout)[0];
  t.is(sandbox.Networks.keep.IPAddress, '10.172.0.2', 'the next daemon has it, as it was');
  await again.yard(['network', 'disconnect', 'keep', s.name('a')]);
  await again.yard(['sandbox', 'rm', s.name('a')]);
  t.is((await again.yard(['network', 'rm', 'keep'])).code, 0);
  t.deepEqual(await again.holdings(), held, 'nothing left behind');
});

test('TCP only with mutual TLS: refused without it; with it, a client without a certificate the CA signed gets nothing', async (t) => {
  const s = await scratch(t);
  const refused = await run(process.execPath, [YARD, 'daemon', ...daemonArgs(s, `${s.execRoot}/unused.sock`), '--host', 'tcp://127.0.0.1:0']);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /--host: TCP needs mutual TLS \(--tlsverify --tlscacert --tlscert --tlskey\)/);
  t.false(existsSync(`${s.execRoot}/data`), 'nothing was opened or made');

  // A CA, a server certificate for 127.0.0.1, a client certificate; and a stranger's.
  const dir = `${s.execRoot}/tls`;
  mkdirSync(dir, { recursive: true });
  const ssl = (args: string) => execFileSync('sh', ['-ec', `cd ${dir}; ${args}`], { stdio: 'ignore' });
  const key = (name: string) => `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}.key`;
  ssl(`${key('ca')}; openssl req -x509 -key ca.key -out ca.pem -days 1 -subj /CN=switchyard-test-ca`);
  ssl(`${key('other')}; openssl req -x509 -key other.key -out other-ca.pem -days 1 -subj /CN=someone-else`);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    writeFileSync(`${dir}/${name}.ext`, `${ext}\n`);
    ssl(`${key(name)}; openssl req -new -key ${name}.key -out ${name}.csr -subj /CN=${name}; openssl x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ${name}.pem -days 1 -extfile ${name}.ext`);
  }
  ssl('openssl req -new -key other.key -out stranger.csr -subj /CN=stranger; openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other.key -CAcreateserial -out stranger.pem -days 1');
  const d = await startDaemon(t, s, ['--host', 'tcp://127.0.0.1:0', '--tlsverify', '--tlscacert', `${dir}/ca.pem`, '--tlscert', `${dir}/server.pem`, '--tlskey', `${dir}/server.key`]);
  const port = Number(/"host":"tcp:\/\/127\.0\.0\.1:(\d+)"/.exec(d.log())![1]);
  const get = (cert?: string) =>
    new Promise<string>((resolve) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/_ping', ca: readFileSync(`${dir}/ca.pem`), ...(cert ? { cert: readFileSync(`${dir}/${cert}.pem`), key: readFileSync(`${dir}/${cert === 'stranger' ? 'other' : cert}.key`) } : {}) }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve(`${res.statusCode} ${body}`));
      });
      req.on('error', (error) => resolve(`refused: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      req.end();
    });
  t.is(await get('client'), '200 OK', 'a client certificate the CA signed');
  t.regex(await get(), /^refused/, 'no client certificate');
  t.regex(await get('stranger'), /^refused/, "a certificate another CA signed");
});

test('the CLI starts a daemon when none answers on the default socket: one for two CLIs at once, and again after kill -9', async (t) => {
  const s = await scratch(t);
  const socket = '/run/switchyard/yard.sock';
  const daemons = () =>
    execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(' daemon --host unix:///run/switchyard/yard.sock') && line.includes(s.execRoot))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  t.teardown(async () => {
    for (const pid of daemons()) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && daemons().length; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await removeEverything(s);
    rmSync('/run/switchyard', { recursive: true, force: true });
  });
  // The options a started daemon gets (the defaults are the host's: tests never use them).
  const yard = (args: string[]) => run(process.execPath, [YARD, '--data-root', `${s.execRoot}/data`, '--exec-root', s.execRoot, '--nft-prefix', `switchyard_${s.prefix}`, '--bridge', s.name('br0'), ...args]);
  t.false(existsSync(socket), 'no daemon yet');
  const [a, b] = await Promise.all([yard(['network', 'ls', '-q']), yard(['network', 'ls', '-q'])]);
  t.is(a.code, 0, a.stderr);
  t.is(b.code, 0, b.stderr);
  t.is(a.stdout.trim().split('\n').length, 3, 'the default networks');
  const started = daemons();
  t.is(started.length, 1, 'two CLIs at once started one daemon');
  t.regex(readFileSync(`${s.execRoot}/yard.log`, 'utf8'), /"msg":"daemon ready"/, 'it logs to the exec root');
  t.is((statSync(socket).mode & 0o777).toString(8), '660');

  process.kill(started[0]!, 'SIGKILL');
  for (let i = 0; i < 100 && daemons().length; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(existsSync(socket), 'kill -9 left its socket');
  const again = await yard(['network', 'ls', '-q']);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, a.stdout, 'a new daemon on the same data root, with the same networks');
  t.is(daemons().length, 1);
  t.not(daemons()[0], started[0]);
});

/** The docker CLIs on this machine: Debian's 20.10 (set-up installs it) and any newer one. */
const DOCKER_CLIS = ['/usr/bin/docker', '/usr/local/bin/docker'].filter((binary) => existsSync(binary));

test('the stock docker CLIs work against the daemon: network create, ls, inspect, connect, disconnect, rm, prune; info; a clear error for what is not served', async (t) => {
  t.true(DOCKER_CLIS.includes('/usr/bin/docker'), "Debian's docker CLI is installed by set-up");
  const s = await scratch(t);
  const d = await startDaemon(t, s);
  const held = await d.holdings();
  await d.yard(['sandbox', 'create', s.name('a')]);
  for (const [k, docker] of DOCKER_CLIS.entries()) {
    const version = (await d.docker(docker, ['version', '--format', '{{.Client.Version}} {{.Server.APIVersion}}'])).stdout.trim();
    t.log(`${docker}: ${version}`);
    t.regex(version, / 1\.41$/, `${docker} negotiated API 1.41`);
    const net = `dk${k}`;
    const create = await d.docker(docker, ['network', 'create', '--subnet', `10.175.${k}.0/24`, '--gateway', `10.175.${k}.254`, '--label', 'via=docker', net]);
    t.is(create.code, 0, create.stderr);
    t.regex(create.stdout, /^[0-9a-f]{64}\n$/);
    // The same daemon, the same table: docker's ls and yard's print the same bytes.
    const [dockerLs, yardLs] = await Promise.all([d.docker(docker, ['network', 'ls']), d.yard(['network', 'ls'])]);
    t.is(dockerLs.stdout, yardLs.stdout, `${docker} network ls prints what yard network ls prints`);
    t.regex(dockerLs.stdout, new RegExp(`^NETWORK ID +NAME +DRIVER +SCOPE\\n`));
    t.regex(dockerLs.stdout, new RegExp(`\\n${create.stdout.slice(0, 12)} +${net} +bridge +local\\n`));
    const filtered = await d.docker(docker, ['network', 'ls', '--filter', 'label=via=docker', '--format', '{{.Name}} {{.Driver}}']);
    t.is(filtered.stdout, `${net} bridge\n`);
    t.is((await d.docker(docker, ['network', 'connect', '--ip', `10.175.${k}.10`, net, s.name('a')])).code, 0);
    const format = '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}} {{.IPAM.Config}}';
    const [dockerInspect, yardInspect] = await Promise.all([d.docker(docker, ['network', 'inspect', '-f', format, net]), d.yard(['network', 'inspect', '-f', format, net])]);
    t.is(dockerInspect.stdout, `${s.name('a')} 10.175.${k}.10/24 [{10.175.${k}.0/24  10.175.${k}.254 map[]}]\n`);
    t.is(yardInspect.stdout, dockerInspect.stdout, 'yard inspect -f prints what docker prints');
    t.deepEqual(JSON.parse((await d.docker(docker, ['network', 'inspect', net])).stdout)[0].Labels, { via: 'docker' });
    const inUse = await d.docker(docker, ['network', 'rm', net]);
    t.is(inUse.code, 1);
    t.regex(inUse.stderr, /Error response from daemon: error while removing network: network dk\d id [0-9a-f]{64} has active endpoints/);
    t.is((await d.docker(docker, ['network', 'disconnect', net, s.name('a')])).code, 0);
    const missing = await d.docker(docker, ['network', 'inspect', 'nosuch']);
    t.is(missing.code, 1);
    t.regex(missing.stderr, /No such network: nosuch|network nosuch not found/);
    t.deepEqual([(await d.docker(docker, ['network', 'rm', net])).stdout], [`${net}\n`]);
    await d.docker(docker, ['network', 'create', `spare${k}`]);
    const prune = await d.docker(docker, ['network', 'prune', '-f']);
    t.is(prune.stdout, `Deleted Networks:\nspare${k}\n\n`);
    const predefined = await d.docker(docker, ['network', 'rm', 'bridge']);
    t.regex(predefined.stderr, /bridge is a pre-defined network and cannot be removed/);

    // docker info: Docker's shape, with what this daemon has (no containers or images yet).
    const info = await d.docker(docker, ['info']);
    t.is(info.code, 0, info.stderr);
    t.notRegex(info.stdout + info.stderr, /ERROR|errors pretty printing/);
    t.regex(info.stdout, /\n Server Version: \d+\.\d+\.\d+\n/);
    t.regex(info.stdout, /\n  Network: bridge host macvlan null\n/);
    t.regex(info.stdout, /\n Containers: 0\n/);
    const root = await d.docker(docker, ['info', '--format', '{{.DockerRootDir}} {{.OSType}} {{.NCPU}}']);
    t.is(root.stdout, `${dataRootOf(s)} linux ${os.cpus().length}\n`);
    // What the daemon does not serve yet says so, in Docker's words first.
    const ps = await d.docker(docker, ['ps']);
    t.is(ps.code, 1);
    t.regex(ps.stderr, /^Error response from daemon: page not found: GET \/containers\/json is not served by Switchyard, which serves networks and sandboxes/);
  }
  await d.yard(['sandbox', 'rm', s.name('a')]);
  t.deepEqual(await d.holdings(), held, 'nothing left behind');
});
