/**
 * `yard … --format` must print what the docker CLI prints. Expected strings come from docker's and
 * Go's own tests, cited case by case:
 *   docker/cli cli/command/network/formatter_test.go     (network ls contexts)
 *   docker/cli templates/templates_test.go                (docker's template functions)
 *   docker/cli cli/command/inspect/inspector_test.go      (inspect, typed and raw fallback)
 *   docker/cli cli/command/formatter/tabwriter/tabwriter_test.go
 *   golang/go src/text/template/exec_test.go, parse/parse_test.go, fmt/fmt_test.go
 * and, where no test pins a case, from reading the code those tests cover (said so in place).
 */
import test from 'ava';
import {
  formatInspect,
  FormatError,
  formatNetworkInspect,
  formatNetworkList,
  formatTable,
  naturalLess,
  networkFormat,
  networkListContext,
  tabwrite,
  templateString,
  truncateId,
  writeList,
} from '../../src/cli/format.js';
import type { ApiNetwork } from '../../src/cli/format.js';
import { dockerHeaderFuncs, parseDockerTemplate } from '../../src/cli/template-docker.js';
import { sprintf } from '../../src/cli/template-fmt.js';
import { Template, TemplateError } from '../../src/cli/template.js';
import {
  anyType,
  boolType,
  decodeRaw,
  decodeTyped,
  float64Type,
  goInt,
  goNil,
  goString,
  goStrings,
  goStringMap,
  goTime,
  intType,
  mapOf,
  sliceOf,
  stringType,
} from '../../src/cli/template-values.js';
import type { GoValue, Json, StructType, Value } from '../../src/cli/template-values.js';

// ---- helpers ----

/** Runs a docker template over a value: the output, or "ERR: message". */
function run(template: string, data: Value, missingKey?: 'error'): string {
  try {
    return parseDockerTemplate(template).execute(data, missingKey ? { missingKey } : {});
  } catch (error) {
    if (error instanceof TemplateError) return `ERR: ${error.message}`;
    throw error;
  }
}

function formatError(action: () => unknown): FormatError {
  try {
    action();
  } catch (error) {
    if (error instanceof FormatError) return error;
    throw error;
  }
  throw new Error('expected a FormatError');
}

const network = (fields: Partial<ApiNetwork>): ApiNetwork => ({
  Name: '',
  Id: '',
  Created: '0001-01-01T00:00:00Z',
  Scope: '',
  Driver: '',
  EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: null },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Containers: {},
  Options: null,
  Labels: null,
  ...fields,
});

/** The two networks of TestNetworkContextWrite (formatter_test.go). */
const dockerTestNetworks = [
  network({ Id: 'networkID1', Name: 'foobar_baz', Driver: 'foo', Scope: 'local', Created: '2016-01-01T00:00:00Z' }),
  network({ Id: 'networkID2', Name: 'foobar_bar', Driver: 'bar', Scope: 'local', Created: '2017-01-01T00:00:00Z' }),
];

/**
 * docker's formatWrite, which the network tests call, prints rows in the order given; runList sorts
 * before it. writeList is formatWrite.
 */
const formatWrite = (format: string, quiet = false) => writeList(dockerTestNetworks, networkListContext(), networkFormat(format, quiet));

// A testing.T-like structure from Go's exec_test.go (tVal), trimmed to the fields used here.
const uType: StructType = { kind: 'struct', name: 'template.U', fields: [{ name: 'V', type: stringType }] };
const tType: StructType = {
  kind: 'struct',
  name: 'template.T',
  fields: [
    { name: 'True', type: boolType },
    { name: 'I', type: intType },
    { name: 'X', type: stringType },
    { name: 'U', type: uType },
    { name: 'SI', type: sliceOf(intType) },
    { name: 'SIEmpty', type: sliceOf(intType) },
    { name: 'SB', type: sliceOf(boolType) },
    { name: 'MSI', type: mapOf(intType) },
    { name: 'MSIone', type: mapOf(intType) },
    { name: 'MSIEmpty', type: mapOf(intType) },
    { name: 'Empty0', type: anyType },
    { name: 'Empty3', type: anyType },
    { name: 'S', type: stringType },
    { name: 'FloatZero', type: float64Type },
    { name: 'unexported', type: intType },
  ],
};
const tVal = decodeTyped(
  { True: true, I: 17, X: 'x', U: { V: 'v' }, SI: [3, 4, 5], SIEmpty: [], SB: [true, false], MSI: { one: 1, two: 2, three: 3 }, MSIone: { one: 1 }, MSIEmpty: {}, Empty3: [7, 8], S: 'xyz' },
  tType,
);

// ---- docker network ls (formatter_test.go TestNetworkContextWrite) ----

test('network ls prints the default table aligned as docker does', (t) => {
  t.is(
    formatWrite('table'),
    'NETWORK ID   NAME         DRIVER    SCOPE\n' + 'networkID1   foobar_baz   foo       local\n' + 'networkID2   foobar_bar   bar       local\n',
  );
});

test('network ls -q prints IDs only, and a table format keeps its header even with -q', (t) => {
  t.is(formatWrite('table', true), 'networkID1\nnetworkID2\n');
  t.is(formatWrite('table {{.Name}}', false), 'NAME\nfoobar_baz\nfoobar_bar\n');
  t.is(formatWrite('table {{.Name}}', true), 'NAME\nfoobar_baz\nfoobar_bar\n');
});

test('network ls raw format separates records with a blank line, and -q keeps only network_id', (t) => {
  t.is(
    formatWrite('raw'),
    'network_id: networkID1\nname: foobar_baz\ndriver: foo\nscope: local\n\n' + 'network_id: networkID2\nname: foobar_bar\ndriver: bar\nscope: local\n\n',
  );
  t.is(formatWrite('raw', true), 'network_id: networkID1\nnetwork_id: networkID2\n');
});

test('network ls custom formats print one line per network, CreatedAt as Go time.String', (t) => {
  t.is(formatWrite('{{.Name}}'), 'foobar_baz\nfoobar_bar\n');
  t.is(formatWrite('{{.Name}} {{.CreatedAt}}'), 'foobar_baz 2016-01-01 00:00:00 +0000 UTC\nfoobar_bar 2017-01-01 00:00:00 +0000 UTC\n');
});

test('network ls reports template errors in docker words and prints nothing', (t) => {
  t.is(formatError(() => formatWrite('{{InvalidFunction}}')).message, 'template parsing error: template: :1: function "InvalidFunction" not defined');
  t.is(formatError(() => formatWrite('{{nil}}')).message, 'template parsing error: template: :1:2: executing "" at <nil>: nil is not a command');
  // Not in docker's tests: Go's "can't evaluate field" with docker's context type name.
  const error = formatError(() => formatWrite('{{.Name}} {{.Foo}}'));
  t.is(error.message, 'template parsing error: template: :1:12: executing "" at <.Foo>: can\'t evaluate field Foo in type *network.networkContext');
  t.is(error.exitCode, 1);
  t.is(error.output, '');
  t.is(error.category, 'bad-request');
});

test('network ls {{json .}} marshals the context methods with sorted keys (TestNetworkContextWriteJSON)', (t) => {
  const networks = [network({ Id: 'networkID1', Name: 'foobar_baz' }), network({ Id: 'networkID2', Name: 'foobar_bar' })];
  const lines = writeList(networks, networkListContext(), '{{json .}}').trimEnd().split('\n');
  // The test compares maps; the byte order is json.Marshal's of a map: keys sorted.
  t.is(
    lines[0],
    '{"CreatedAt":"0001-01-01 00:00:00 +0000 UTC","Driver":"","ID":"networkID1","IPv4":"false","IPv6":"false","Internal":"false","Labels":"","Name":"foobar_baz","Scope":""}',
  );
  t.deepEqual(JSON.parse(lines[1]!), {
    Driver: '',
    ID: 'networkID2',
    IPv4: 'false',
    IPv6: 'false',
    Internal: 'false',
    Labels: '',
    Name: 'foobar_bar',
    Scope: '',
    CreatedAt: '0001-01-01 00:00:00 +0000 UTC',
  });
  // --format json is {{json .}} (formatter.go templateString).
  t.is(writeList(networks, networkListContext(), 'json'), writeList(networks, networkListContext(), '{{json .}}'));
});

test('network ls {{json .ID}} prints each ID as a JSON string (TestNetworkContextWriteJSONField)', (t) => {
  t.is(formatWrite('{{json .ID}}'), '"networkID1"\n"networkID2"\n');
});

test('network ls labels print as sorted k=v pairs and .Label picks one, headed by its last dotted part', (t) => {
  // TestNetworkContext: Labels of {label1: value1, label2: value2}.
  const labelled = network({ Id: 'networkID1', Name: 'n', Labels: { label2: 'value2', label1: 'value1' } });
  t.is(writeList([labelled], networkListContext(), '{{.Labels}}'), 'label1=value1,label2=value2\n');
  t.is(writeList([network({})], networkListContext(), '{{.Labels}}|{{.Label "x"}}'), '|\n');
  // SubHeaderContext.Label: last part after '.', '-' and '_' as spaces (custom.go).
  t.is(
    writeList([network({ Id: 'id', Labels: { 'com.example.my-label': 'v' } })], networkListContext(), 'table {{.ID}}\t{{.Label "com.example.my-label"}}'),
    'NETWORK ID   my label\nid           v\n',
  );
});

test('network ls truncates IDs to 12 characters unless --no-trunc, and sorts names naturally', (t) => {
  const id = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
  const networks = [network({ Id: id, Name: 'net10' }), network({ Id: 'sha256:0123456789abcdef', Name: 'net9' }), network({ Id: 'b', Name: 'bridge' })];
  t.is(formatNetworkList(networks, { format: '{{.ID}} {{.Name}}' }), 'b bridge\n0123456789ab net9\na1b2c3d4e5f6 net10\n');
  t.is(formatNetworkList(networks, { format: '{{.ID}}', noTrunc: true }), `b\nsha256:0123456789abcdef\n${id}\n`);
  t.is(formatNetworkList(networks, { quiet: true }), 'b\n0123456789ab\na1b2c3d4e5f6\n');
  t.is(truncateId('sha256:abc'), 'abc');
  // fvbommel/sortorder's rules: digits before letters, numbers by value, fewer leading zeros first.
  t.true(naturalLess('a9', 'a10'));
  t.true(naturalLess('a1', 'ab'));
  t.true(naturalLess('a01', 'a001'));
  t.false(naturalLess('a10', 'a9'));
  t.true(naturalLess('a', 'a0'));
});

test('network ls with no networks still prints the table header', (t) => {
  t.is(formatNetworkList([]), 'NETWORK ID   NAME      DRIVER    SCOPE\n');
  t.is(formatNetworkList([], { format: '{{.Name}}' }), '');
});

test('network ls uses the configured format only without --format and -q', (t) => {
  const networks = [network({ Id: 'id1', Name: 'a' })];
  t.is(formatNetworkList(networks, { configFormat: '{{.Name}}!' }), 'a!\n');
  t.is(formatNetworkList(networks, { configFormat: '{{.Name}}!', quiet: true }), 'id1\n');
  t.is(formatNetworkList(networks, { configFormat: '{{.Name}}!', format: '{{.ID}}' }), 'id1\n');
});

test('table headers come from the header map with docker header functions: upper keeps NAME, pad pads', (t) => {
  // templates.HeaderFunctions replaces upper but not pad (templates.go).
  t.is(formatWrite('table {{upper .Name}}\t{{pad .Driver 1 1}}|'), 'NAME          DRIVER |\nFOOBAR_BAZ    foo |\nFOOBAR_BAR    bar |\n');
  // A header that fails (json wants a string, the header map is not one) keeps what it wrote: nothing.
  t.is(writeList([dockerTestNetworks[0]!], networkListContext(), 'table {{json .Name}}'), 'NAME\n"foobar_baz"\n');
  t.true(writeList([dockerTestNetworks[0]!], networkListContext(), 'table {{json .}}').startsWith('\n{"CreatedAt":'));
});

test('printing the whole row context is refused rather than printed differently from docker', (t) => {
  const error = formatError(() => formatWrite('{{.}}'));
  t.regex(error.message, /^template parsing error: template: :1:2: executing "" at <\{\{\.\}\}>: yard: printing the whole row/);
});

test('--format strings lose a table prefix and surrounding spaces, and \\t \\n become tab and newline', (t) => {
  t.is(templateString('table {{.ID}}\\t{{.Name}}  '), '{{.ID}}\t{{.Name}}');
  t.is(templateString('json'), '{{json .}}');
  t.is(templateString('table'), '');
  t.is(templateString('\t{{.ID}}\\n '), '\t{{.ID}}\n');
});

// ---- generic tables ----

test('formatTable prints a docker-style list for any rows, with -q, --format and json', (t) => {
  const rows = [
    { id: 'c0ffee123456789', name: 'web', state: 'running' },
    { id: 'deadbeef', name: 'db-primary', state: 'exited' },
  ];
  const columns = [
    { field: 'ID', header: 'SANDBOX ID', value: (row: (typeof rows)[number]) => row.id.slice(0, 12) },
    { field: 'Name', header: 'NAME', value: (row: (typeof rows)[number]) => row.name },
    { field: 'State', header: 'STATE', value: (row: (typeof rows)[number]) => row.state },
  ];
  t.is(formatTable(rows, columns), 'SANDBOX ID     NAME         STATE\nc0ffee123456   web          running\ndeadbeef       db-primary   exited\n');
  t.is(formatTable(rows, columns, { quiet: true }), 'c0ffee123456\ndeadbeef\n');
  t.is(formatTable(rows, columns, { format: 'table {{.Name}}\t{{.State}}' }), 'NAME         STATE\nweb          running\ndb-primary   exited\n');
  t.is(formatTable(rows.slice(0, 1), columns, { format: 'json' }), '{"ID":"c0ffee123456","Name":"web","State":"running"}\n');
  t.is(
    formatError(() => formatTable(rows, columns, { format: '{{.Nope}}', typeName: '*sandbox.sandboxContext' })).message,
    'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *sandbox.sandboxContext',
  );
});

// ---- tabwriter (docker's fork; tabwriter_test.go, cases named as there) ----

test('tabwriter pads tab-terminated cells to the widest cell plus padding, at least minwidth', (t) => {
  const dots = (minWidth: number, padding: number) => ({ minWidth, padding, padChar: '.' });
  t.is(tabwrite('*\t*', dots(8, 1)), '*.......*'); // 5
  t.is(tabwrite('e) foo\tbar\t\n', dots(8, 1)), 'e) foo..bar.....\n'); // 7e
  t.is(tabwrite('1\t2\t3\t4\n11\t222\t3333\t44444\n', dots(1, 0)), '1.2..3...4\n11222333344444\n'); // 9a
  t.is(tabwrite('1\t2\t3\t4\f11\t222\t3333\t44444\n', dots(1, 0)), '1234\n11222333344444\n'); // 9c
  t.is(tabwrite('\n\n\n', dots(8, 1)), '\n\n\n'); // 2
  t.is(tabwrite('\t', dots(8, 1)), ''); // 4a
  t.is(tabwrite('\t\n', dots(8, 1)), '........\n'); // 6
});

test('tabwriter blocks columns by contiguous lines and measures wide characters as two columns', (t) => {
  // 11: docker's fork counts 本 as two columns (go-runewidth).
  t.is(
    tabwrite('本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n', { minWidth: 8, padding: 1, padChar: '.' }),
    '本......b.......c\naa......本本本..cccc....ddddd\naaa.....bbbb\n',
  );
  // 13a
  t.is(
    tabwrite('4444\t日本語\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n', {
      minWidth: 4,
      padding: 1,
      padChar: '-',
    }),
    '4444------日本語-22--1---333\n999999999-22\n7---------22\n------------------88888888\n\n666666-666666-666666----4444\n1------1------999999999-0000000000\n',
  );
});

// ---- docker inspect (inspector_test.go) ----

/** inspector_test.go's testElement: struct { DNS string `json:"Dns"` }. */
const testElementType: StructType = { kind: 'struct', name: 'inspect.testElement', fields: [{ name: 'DNS', type: stringType, json: 'Dns' }] };

test('inspect with a template prints it once per object (TestTemplateInspectorDefault, …Multiple, …Empty)', (t) => {
  t.is(formatInspect([{ Dns: '0.0.0.0' }], '{{.DNS}}', { goType: testElementType }), '0.0.0.0\n');
  t.is(formatInspect([{ Dns: '0.0.0.0' }, { Dns: '1.1.1.1' }], '{{.DNS}}', { goType: testElementType }), '0.0.0.0\n1.1.1.1\n');
  t.is(formatInspect([], '{{.DNS}}', { goType: testElementType }), '\n');
});

test('inspect falls back to the raw JSON when the typed value fails, with missingkey=error (TestTemplateInspectorRawFallback…)', (t) => {
  t.is(formatInspect([{ Dns: '0.0.0.0' }], '{{.Dns}}', { goType: testElementType }), '0.0.0.0\n');
  const error = formatError(() => formatInspect([{ Foo: '0.0.0.0' }], '{{.Dns}}', { goType: testElementType }));
  t.true(error.message.startsWith('template parsing error'));
  t.is(error.message, 'template parsing error: template: :1:2: executing "" at <.Dns>: map has no entry for key "Dns"');
  t.is(error.exitCode, 1);
  t.is(error.output, '\n');
});

test('inspect keeps the objects that worked and reports the others, exit 64 when the template does not parse', (t) => {
  const error = formatError(() => formatInspect([{ Dns: 'a' }, { Other: 1 }, { Dns: 'b' }], '{{.Dns}}', { goType: testElementType }));
  t.is(error.output, 'a\nb\n');
  t.is(error.message, 'template parsing error: template: :1:2: executing "" at <.Dns>: map has no entry for key "Dns"');
  const parse = formatError(() => formatInspect([{ Dns: 'a' }], '{{.Dns'));
  // Without a Go type the objects are maps to the template: a missing key prints <no value>.
  t.is(formatInspect([{ Other: 1 }], '{{.Dns}}'), '<no value>\n');
  t.is(parse.exitCode, 64);
  t.is(parse.message, 'template parsing error: template: :1: unclosed action');
});

test('inspect without a format prints a JSON array indented by four spaces (TestIndentedInspectorDefault)', (t) => {
  t.is(formatInspect([{ Dns: '0.0.0.0' }]), '[\n    {\n        "Dns": "0.0.0.0"\n    }\n]\n');
  t.is(formatInspect([]), '[]\n');
  // json.Indent: empty objects and arrays stay on one line; --format json is compact.
  t.is(formatInspect([{ a: {}, b: [], c: [1, { d: null }] }]), '[\n    {\n        "a": {},\n        "b": [],\n        "c": [\n            1,\n            {\n                "d": null\n            }\n        ]\n    }\n]\n');
  t.is(formatInspect([{ a: '<b>' }], 'json'), '[{"a":"<b>"}]\n');
});

// ---- docker network inspect over docker 28's network.Inspect ----

const inspected = network({
  Name: 'web',
  Id: 'f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1',
  Created: '2024-01-02T03:04:05.123456789Z',
  Scope: 'local',
  Driver: 'bridge',
  EnableIPv4: true,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] },
  Containers: { c0ffee: { Name: 'db', EndpointID: 'e1', MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' } },
  Options: { 'com.docker.network.bridge.name': 'br-web' },
  Labels: { team: 'a&b' },
});

test('network inspect prints Go structs with every field in order and maps with sorted keys', (t) => {
  // Read from the Go types (api/types/network, docker 28): IPAMConfig{Subnet, IPRange, Gateway, AuxAddress}.
  t.is(formatNetworkInspect([inspected], '{{.IPAM.Config}}'), '[{172.18.0.0/16  172.18.0.1 map[]}]\n');
  t.is(formatNetworkInspect([inspected], '{{.IPAM}}'), '{default map[] [{172.18.0.0/16  172.18.0.1 map[]}]}\n');
  t.is(formatNetworkInspect([inspected], '{{.Containers}}'), 'map[c0ffee:{db e1 02:42:ac:12:00:02 172.18.0.2/16 }]\n');
  t.is(formatNetworkInspect([inspected], '{{range .IPAM.Config}}{{.Subnet}} via {{.Gateway}}{{end}}'), '172.18.0.0/16 via 172.18.0.1\n');
  t.is(formatNetworkInspect([inspected], '{{.Created}}'), '2024-01-02 03:04:05.123456789 +0000 UTC\n');
  t.is(formatNetworkInspect([inspected], '{{.Labels.missing}}|{{index .Options "com.docker.network.bridge.name"}}'), '<no value>|br-web\n');
  t.is(formatNetworkInspect([inspected], '{{.Peers}} {{.Services}} {{len .Containers}}'), '[] map[] 1\n');
});

test('network inspect {{json}} follows the Go types: json tags, omitempty, RFC 3339 times, no HTML escaping', (t) => {
  t.is(formatNetworkInspect([inspected], '{{json .IPAM}}'), '{"Driver":"default","Options":{},"Config":[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]}\n');
  t.is(
    formatNetworkInspect([inspected], '{{json .}}'),
    '{"Name":"web","Id":"f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1","Created":"2024-01-02T03:04:05.123456789Z",' +
      '"Scope":"local","Driver":"bridge","EnableIPv4":true,"EnableIPv6":false,' +
      '"IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},' +
      '"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,' +
      '"Containers":{"c0ffee":{"Name":"db","EndpointID":"e1","MacAddress":"02:42:ac:12:00:02","IPv4Address":"172.18.0.2/16","IPv6Address":""}},' +
      '"Options":{"com.docker.network.bridge.name":"br-web"},"Labels":{"team":"a&b"}}\n',
  );
});

test('network inspect accepts the JSON key .Id through the raw fallback, and .ID through the Go field', (t) => {
  t.is(formatNetworkInspect([inspected], '{{.ID}}'), `${inspected.Id}\n`);
  t.is(formatNetworkInspect([inspected], '{{.Id}}'), `${inspected.Id}\n`);
  // Both in one template: the typed run fails on .Id, the raw one on .ID.
  t.is(
    formatError(() => formatNetworkInspect([inspected], '{{.Id}} {{.ID}}')).message,
    'template parsing error: template: :1:10: executing "" at <.ID>: map has no entry for key "ID"',
  );
});

// ---- docker's template functions (templates_test.go) ----

test('json does not escape HTML characters (TestParseJSONFunctions)', (t) => {
  t.is(run('{{json .Ports}}', goStringMap({ Ports: '0.0.0.0:2->8/udp' })), '"0.0.0.0:2->8/udp"');
});

test('split and join compose (TestParseStringFunctions)', (t) => {
  t.is(run('{{join (split . ":") "/"}}', goString('text:with:colon')), 'text/with/colon');
  t.is(run('this is a {{ . }}', goString('string')), 'this is a string');
});

test('truncate cuts to a length and pad surrounds non-empty strings (TestParseTruncateFunction)', (t) => {
  const source = goString('tupx5xzf6hvsrhnruz5cr8gwp');
  t.is(run('{{truncate . 5}}', source), 'tupx5');
  t.is(run('{{truncate . 25}}', source), 'tupx5xzf6hvsrhnruz5cr8gwp');
  t.is(run('{{truncate . 30}}', source), 'tupx5xzf6hvsrhnruz5cr8gwp');
  t.is(run('{{pad . 3 3}}', source), '   tupx5xzf6hvsrhnruz5cr8gwp   ');
  for (const template of ['{{truncate . 5}}', '{{truncate . 25}}', '{{pad . 3 3}}']) {
    t.is(run(template, goString('')), '');
    // Nil source: an error, nothing written.
    t.regex(run(template, undefined), /^ERR: template: :1:\d+: executing "" at <\.>: invalid value; expected string$/);
  }
});

test('header functions leave their argument as it is (TestHeaderFunctions)', (t) => {
  for (const template of ['{{ json .}}', '{{ split . ","}}', '{{ join . ","}}', '{{ title .}}', '{{ lower .}}', '{{ upper .}}', '{{ truncate . 2}}']) {
    t.is(parseDockerTemplate(template).withFuncs(dockerHeaderFuncs).execute(goString('hello world')), 'hello world');
  }
});

test('join accepts any slice or map, printing elements with fmt (TestJoinElements)', (t) => {
  const format = 'output: "{{- join . ", " -}}"';
  const pair: StructType = { kind: 'struct', name: 'struct { A string; B string }', fields: [{ name: 'A', type: stringType }, { name: 'B', type: stringType }] };
  t.is(run(format, goNil(anyType)), 'output: ""');
  t.is(run(format, goString('hello')), 'ERR: template: :1:13: executing "" at <join . ", ">: error calling join: expected slice, got string');
  t.is(run(format, decodeTyped([{ A: '1', B: '2' }, { A: '3', B: '4' }], sliceOf(pair))), 'output: "{1 2}, {3 4}"');
  t.is(run(format, goStringMap({ A: '1', B: '2', C: '3' })), 'output: "1, 2, 3"');
  t.is(run(format, decodeTyped([true, false, true], sliceOf(boolType))), 'output: "true, false, true"');
});

test('title, upper and lower map letters one by one as Go does', (t) => {
  t.is(run('{{title .}}', goString('hello wide_world-x1 éa')), 'Hello Wide_world-X1 Éa');
  t.is(run('{{upper .}}|{{lower .}}', goString('Straße İ')), 'STRAßE İ|straße i');
});

// ---- Go's text/template (exec_test.go, parse_test.go) ----

test('fields, maps and empty interfaces print as Go prints them (exec_test.go)', (t) => {
  t.is(run('{{.X}}|{{.U.V}}', tVal), 'x|v');
  t.is(run('{{.MSI}}', tVal), 'map[one:1 three:3 two:2]');
  t.is(run('{{.SI}}', tVal), '[3 4 5]');
  t.is(run('{{.Empty0}}', tVal), '<no value>');
  t.is(run('{{.Empty3}}', tVal), '[7 8]');
  t.is(run('{{.MSI.XXX}}', tVal), '<no value>');
  t.is(run('{{index .MSI `XXX`}}', tVal), '0');
  t.is(run('{{printf "%v" .U}}|{{printf "%+v" .U}}', tVal), '{v}|{V:v}');
  t.is(run('{{.unexported}}', tVal), 'ERR: template: :1:2: executing "" at <.unexported>: unexported is an unexported field of struct type template.T');
});

test('if, else if, with, else with and range behave as in Go (exec_test.go)', (t) => {
  t.is(run('{{if false}}FALSE{{else if true}}TRUE{{end}}', tVal), 'TRUE');
  t.is(run('{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}', tVal), '3');
  t.is(run('{{with .SI}}{{.}}{{else}}EMPTY{{end}}', tVal), '[3 4 5]');
  t.is(run('{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}', tVal), 'EMPTY');
  t.is(run('{{with 0}}{{.}}{{else with true}}{{.}}{{end}}', tVal), 'true');
  t.is(run('{{range .SI}}-{{.}}-{{end}}', tVal), '-3--4--5-');
  t.is(run('{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}', tVal), 'EMPTY');
  t.is(run('{{range .MSI}}-{{.}}-{{end}}', tVal), '-1--3--2-');
  t.is(run('{{range $k, $v := .MSI}}{{$k}}={{$v}} {{end}}', tVal), 'one=1 three=3 two=2 ');
  t.is(run('{{range $i, $x := .SI}}<{{$i}}={{$x}}>{{end}}', tVal), '<0=3><1=4><2=5>');
  t.is(run('{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}', tVal), '-3-');
  t.is(run('{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}', tVal), '-3--4--5-');
  t.is(run('{{range .SB}}-{{.}}-{{end}}', tVal), '-true--false-');
  t.is(run('{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}', tVal), '17,true');
  t.is(run('{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}', tVal), 'v');
  t.is(run('{{$x := 0}}{{range .SI}}{{$x = .}}{{end}}{{$x}}', tVal), '5');
});

test('builtins: and/or short-circuit to an operand, comparisons, index, slice, len, print (exec_test.go)', (t) => {
  t.is(run('{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}', undefined), 'false 0 0 1');
  t.is(run('{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}', undefined), '0 1 true 1');
  t.is(run('{{1 | and 1}} {{0 | or 0}}', undefined), '1 0');
  t.is(run('{{and 1 .Unknown}}', undefined), '<no value>');
  t.is(run('{{not true}} {{not false}}', undefined), 'false true');
  t.is(run('{{eq .I 17 18}} {{ne 1 1}} {{lt "a" "b"}} {{ge 2 2}}', tVal), 'true false true true');
  t.is(run('{{index .SI 1}} {{slice .SI 1 2}} {{slice .S 1}} {{len .SI}}', tVal), '4 [4] yz 3');
  t.is(run('{{print 1 2 "a" "b" 3}}', undefined), '1 2ab3');
  t.is(run('{{println 1 2 3}}', undefined), '1 2 3\n');
  t.is(run('{{print nil}}', undefined), '<nil>');
  t.is(run('{{html "<script>alert(\\"XSS\\");</script>"}}', undefined), '&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;');
  t.is(run('{{"http://www.example.org/"|urlquery}}', undefined), 'http%3A%2F%2Fwww.example.org%2F');
  t.is(run('{{js .}}', goString("It'd be nice.")), "It\\'d be nice.");
  t.is(run('{{range 3}}{{.}}{{end}}', undefined), '012');
});

test('builtins fail in Go words: index out of range, incompatible comparison, len of int', (t) => {
  t.is(run('{{index .SI 10}}', tVal), 'ERR: template: :1:2: executing "" at <index .SI 10>: error calling index: index out of range: 10');
  t.is(run('{{eq .I "x"}}', tVal), 'ERR: template: :1:2: executing "" at <eq .I "x">: error calling eq: incompatible types for comparison: int and string');
  t.is(run('{{len 3}}', undefined), 'ERR: template: :1:2: executing "" at <len 3>: error calling len: len of type int');
  t.is(run('{{1 2}}', undefined), 'ERR: template: :1:2: executing "" at <1>: can\'t give argument to non-function 1');
  t.is(run('{{.X.Y}}', tVal), 'ERR: template: :1:4: executing "" at <.X.Y>: can\'t evaluate field Y in type string');
  t.is(run('{{upper 3}}', undefined), 'ERR: template: :1:8: executing "" at <3>: expected string; found 3');
  t.is(run('{{upper .I}}', tVal), 'ERR: template: :1:8: executing "" at <.I>: wrong type for value; expected string; got int');
});

test('trim markers remove the spaces next to an action, comments print nothing', (t) => {
  // parse_test.go / exec_test.go trim cases.
  t.is(run('{{23 -}} < {{- 45}}', undefined), '23<45');
  t.is(run('x \n\t{{- 3 -}}\n y', undefined), 'x3y');
  t.is(run('{{- /* comment */ -}} a', undefined), 'a');
  t.is(run('{{-3}}', undefined), '-3');
});

test('literals: strings with escapes, raw strings, characters, numbers in Go syntax', (t) => {
  t.is(run('{{"a\\tb\\u00e9"}}|{{`raw\\n`}}|{{\'a\'}}|{{0x1F}}|{{0o17}}|{{1_000}}|{{1.5}}|{{1e3}}|{{true}}', undefined), 'a\tbé|raw\\n|97|31|15|1000|1.5|1000|true');
});

test('parse errors read as Go writes them (parse_test.go)', (t) => {
  t.is(run('{{.Name', undefined), 'ERR: template: :1: unclosed action');
  t.is(run('{{end}}', undefined), 'ERR: template: :1: unexpected {{end}}');
  t.is(run('{{if 1}}x', undefined), 'ERR: template: :1: unexpected EOF');
  t.is(run('{{range .SI}}{{else}}{{else}}{{end}}', undefined), 'ERR: template: :1: expected end; found {{else}}');
  t.is(run('{{.X | "y"}}', undefined), 'ERR: template: :1: non executable command in pipeline stage 2');
  t.is(run('{{$u}}', undefined), 'ERR: template: :1: undefined variable "$u"');
  t.is(run('{{}}', undefined), 'ERR: template: :1: missing value for command');
  t.is(run('{{break}}', undefined), 'ERR: template: :1: {{break}} outside {{range}}');
  t.is(run('{{.X}\n}', undefined), "ERR: template: :1: bad character U+007D '}'");
  // TestErrors' line-number cases (unclosed1, unclosed3, unclosed4, var1), in an unnamed template.
  t.is(run('line1\n{{', undefined), 'ERR: template: :2: unclosed action');
  t.is(run('line1\n{{"x"\n"y"\n', undefined), 'ERR: template: :4: unclosed action started at :2');
  t.is(run('{{\n\n\n\n\n', undefined), 'ERR: template: :6: unclosed action started at :1');
  t.is(run('line1\n{{\nx\n}}', undefined), 'ERR: template: :3: function "x" not defined');
  t.is(run('{{template "x"}}', undefined), 'ERR: template: :1: {{template}} is not supported by yard');
  t.is(run('{{define "x"}}{{end}}', undefined), 'ERR: template: :1: {{define}} is not supported by yard');
});

test('execution errors give the byte column of the failing node on its line', (t) => {
  t.is(run('é{{.Foo}}', goStringMap({})), 'é<no value>');
  t.is(run('é{{.Foo}}', goStringMap({}), 'error'), 'ERR: template: :1:4: executing "" at <.Foo>: map has no entry for key "Foo"');
  t.is(run('a\nbc{{.Foo}}', goStringMap({}), 'error'), 'ERR: template: :2:4: executing "" at <.Foo>: map has no entry for key "Foo"');
});

test('raw JSON decodes as Go decodes into interface{} with UseNumber', (t) => {
  const raw = decodeRaw({ Num: 5, Arr: [1, 'a', null], Obj: { b: 1, a: 'x' }, Null: null } as Json);
  t.is(run('{{.Num}} {{.Arr}} {{.Obj}} {{.Null}}', raw), '5 [1 a <nil>] map[a:x b:1] <no value>');
  t.is(run('{{printf "%T %T %T" .Num .Arr .Obj}}', raw), 'json.Number []interface {} map[string]interface {}');
  t.is(run('{{eq .Num 5}}', raw), 'ERR: template: :1:2: executing "" at <eq .Num 5>: error calling eq: incompatible types for comparison: json.Number and int');
  t.is(run('{{eq .Num "5"}}', raw), 'true');
  t.is(run('{{.Null.X}}', raw), 'ERR: template: :1:7: executing "" at <.Null.X>: nil pointer evaluating interface {}.X');
});

// ---- fmt (fmt_test.go) ----

test('printf formats verbs, widths and flags as Go fmt does (fmt_test.go)', (t) => {
  const s = (text: string) => goString(text);
  const i = (n: number) => goInt(n);
  const f = (n: number): GoValue => ({ type: float64Type, value: n });
  t.is(sprintf('%5s|%-5s|%.2s|%q|%x|% x|%#q', [s('abc'), s('abc'), s('abc'), s('a"b'), s('hi'), s('hi'), s('a')]), '  abc|abc  |ab|"a\\"b"|6869|68 69|`a`');
  t.is(sprintf('%d|%5d|%-5d|%05d|%+d|%x|%X|%#x|%o|%#o|%b|%c|%U', [i(42), i(42), i(42), i(-42), i(42), i(255), i(255), i(255), i(8), i(8), i(5), i(65), i(0x1f600)]), '42|   42|42   |-0042|+42|ff|FF|0xff|10|010|101|A|U+1F600');
  t.is(sprintf('%v|%v|%v|%v|%v|%v', [f(1e6), f(123456), f(1234567), f(0.0001), f(0.00001), f(3.5)]), '1e+06|123456|1.234567e+06|0.0001|1e-05|3.5');
  t.is(sprintf('%f|%.2f|%8.3f|%e|%.3e|%g|%.3g|%G', [f(3.14159), f(3.14159), f(3.14159), f(1234.5678), f(1234.5678), f(0.000012), f(1234.5678), f(1e-7)]), '3.141590|3.14|   3.142|1.234568e+03|1.235e+03|1.2e-05|1.23e+03|1E-07');
  // strconv rounds the exact binary value, ties to even (ftoa.go shouldRoundUp): 2.25 and 2.5 are exact.
  t.is(sprintf('%.1f|%.0f|%.0f|%.2f|%.1f', [f(2.25), f(2.5), f(1.5), f(0.005), f(2.35)]), '2.2|2|2|0.01|2.4');
  t.is(sprintf('%t|%v|%T|%T', [goInt(1), { type: boolType, value: true }, s('x'), goStrings(['a'])]), '%!t(int=1)|true|string|[]string');
  t.is(sprintf('%d %d', [i(1)]), '1 %!d(MISSING)');
  t.is(sprintf('%d', [i(1), s('x')]), '1%!(EXTRA string=x)');
  t.is(sprintf('%s|%d', [goStrings(['a', 'b']), s('x')]), '[a b]|%!d(string=x)');
  t.is(sprintf('%[2]d %[1]d|%*d|%', [i(1), i(2), i(3)]), '2 1| 3|%!(NOVERB)');
  t.is(sprintf('%v|%s', [undefined, undefined]), '<nil>|%!s(<nil>)');
});

test('Go times print as time.String, format with Go layouts and keep their zone', (t) => {
  t.is(run('{{.}}', goTime('2024-01-02T03:04:05.120Z')), '2024-01-02 03:04:05.12 +0000 UTC');
  t.is(run('{{.}}', goTime('2024-01-02T03:04:05+01:00')), '2024-01-02 03:04:05 +0100 +0100');
  t.is(run('{{.Format "Mon Jan _2 15:04:05 2006"}}|{{.Format "2006-01-02T15:04:05.000Z07:00"}}|{{.Unix}}', goTime('2024-03-09T07:08:09.5Z')), 'Sat Mar  9 07:08:09 2024|2024-03-09T07:08:09.500Z|1709968089');
  t.is(run('{{json .}}', goTime('2024-01-02T03:04:05.123456789-07:00')), '"2024-01-02T03:04:05.123456789-07:00"');
  t.is(run('{{.Month}} {{.Weekday}} {{.YearDay}}', goTime('2024-12-31T00:00:00Z')), 'December Tuesday 366');
});

test('a Template is reusable and its failures carry what was written before them', (t) => {
  const template = Template.parse('a{{.X}}b{{index .Y 1}}c');
  const error = t.throws(() => template.execute(goStringMap({ X: '1' })), { instanceOf: TemplateError });
  t.is(error?.message, 'template: :1:10: executing "" at <index .Y 1>: error calling index: index of untyped nil');
  t.is(error?.output, 'a1b');
  t.is(template.execute(goStringMap({ X: '2', Y: 'yz' })), 'a2b122c');
});
