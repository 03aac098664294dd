/**
 * What `yard network ls|inspect` print, byte for byte what the docker CLI prints for the same data
 * and flags (docker/cli cli/command/formatter, cli/command/network, cli/command/inspect). Pure: the
 * caller fetches, this module only turns objects into text.
 *
 * - `formatNetworkList`: `docker network ls [--format F] [--no-trunc] [-q]`.
 * - `formatInspect` / `formatNetworkInspect`: `docker inspect [--format F]`.
 * - `formatTable`, `writeList`: the same machinery for any list (`yard sandbox ls`).
 *
 * Failures throw a FormatError whose message is docker's (`template parsing error: …`), whose
 * `exitCode` is docker's (64 for a template that does not parse in inspect, 1 otherwise) and whose
 * `output` is what docker still prints on stdout before failing (inspect prints the objects that
 * worked).
 */
import { CnmError } from '../cnm/errors.js';
import { networkInspectType } from './format-docker-types.js';
import type { ApiNetwork } from './format-docker-types.js';
import { tabwrite } from './format-tabwriter.js';
import { dockerHeaderFuncs, parseDockerTemplate } from './template-docker.js';
import { TemplateError } from './template.js';
import type { Template } from './template.js';
import {
  anyType,
  byteSliceType,
  compareGoStrings,
  DecodeError,
  decodeRaw,
  decodeTyped,
  goInt,
  goNil,
  goString,
  goTime,
  indentJson,
  quoteJson,
  stringType,
  timeString,
  uint8Type,
  zeroTime,
} from './template-values.js';
import type { GoMethod, GoType, GoValue, Json, MapType, PointerType, StructType } from './template-values.js';

export type { ApiNetwork, ApiEndpointResource, ApiIpamConfig } from './format-docker-types.js';
export { networkInspectType } from './format-docker-types.js';
export { stringWidth, tabwrite } from './format-tabwriter.js';

/** A --format that failed: docker's message, exit status and the stdout docker still writes. */
export class FormatError extends CnmError {
  readonly exitCode: number;
  readonly output: string;
  constructor(message: string, options: { exitCode?: number; output?: string } = {}) {
    super('bad-request', message);
    this.name = 'FormatError';
    this.exitCode = options.exitCode ?? 1;
    this.output = options.output ?? '';
  }
}

// ---- formatter.Format ----

/** Whether a --format asks for a table (docker: it starts with "table"). */
export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/**
 * formatter.Format.templateString: "json" means `{{json .}}`, a "table" prefix goes, spaces around
 * are trimmed, and the two-character sequences `\t` and `\n` become a tab and a newline.
 */
export function templateString(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  let out = format.startsWith('table') ? format.slice('table'.length) : format;
  out = out.replace(/^ +| +$/g, '');
  return out.replace(/\\t|\\n/g, (escape) => (escape === '\\t' ? '\t' : '\n'));
}

function parseFormat(format: string, exitCode = 1): Template {
  try {
    return parseDockerTemplate(templateString(format));
  } catch (error) {
    if (error instanceof TemplateError) throw new FormatError(`template parsing error: ${error.message}`, { exitCode });
    throw error;
  }
}

// ---- list contexts (formatter.Context.Write) ----

/**
 * How the rows of a list appear to a template: docker's per-command `xxxContext` types, whose
 * exported methods are the placeholders (`.ID`, `.Name`) and whose header map names the columns.
 */
export interface ListContext<Row> {
  /** The Go type name docker's errors show, e.g. `*network.networkContext`. */
  typeName: string;
  /** Column headers by placeholder (formatter.SubHeaderContext). */
  headers: Readonly<Record<string, string>>;
  /** Placeholders without arguments: methods returning strings. They also make up `{{json .}}`. */
  fields: Readonly<Record<string, (row: Row) => string>>;
  /** Placeholders taking one string argument, like `{{.Label "com.example"}}`. */
  lookups?: Readonly<Record<string, (row: Row, argument: string) => string>>;
}

/** formatter.SubHeaderContext: a map[string]string whose Label method heads `.Label "a.b"` columns. */
const subHeaderContextType: MapType = {
  kind: 'map',
  name: 'formatter.SubHeaderContext',
  key: stringType,
  elem: stringType,
  methods: {
    Label: {
      params: [stringType],
      call: (_receiver, [name]) => {
        const parts = (name!.value as string).split('.');
        return goString(parts[parts.length - 1]!.replace(/[-_]/g, ' '));
      },
    },
  },
};

const headerContextType: StructType = {
  kind: 'struct',
  name: 'formatter.HeaderContext',
  fields: [{ name: 'Header', type: anyType }],
};

interface RowHolder<Row> {
  row: Row;
}

const rowHolderType: StructType = { kind: 'struct', name: 'unexported', fields: [], unprintable: 'printing an unexported field is not supported' };

/** The Go types of one list context: a pointer to a struct embedding formatter.HeaderContext. */
function contextTypes<Row>(context: ListContext<Row>): PointerType {
  const structName = context.typeName.replace(/^\*/, '');
  const unprintable = `printing the whole row ({{.}}) is not supported: print its fields, e.g. {{.${Object.keys(context.fields)[0] ?? 'ID'}}}`;
  const elem: StructType = {
    kind: 'struct',
    name: structName,
    fields: [
      { name: 'HeaderContext', type: headerContextType, embedded: true },
      { name: 'row', type: rowHolderType },
    ],
    unprintable,
  };
  const rowOf = (receiver: GoValue) => ((receiver.value as GoValue).value as GoValue[])[1]!.value as RowHolder<Row>;
  const marshal = (receiver: GoValue) => {
    // formatter.MarshalJSON: every exported zero-argument method but FullHeader, through json.Marshal
    // (a map, so keys sorted; HTML characters escaped).
    const holder = rowOf(receiver);
    const names = Object.keys(context.fields).sort(compareGoStrings);
    return `{${names.map((name) => `${quoteJson(name, true)}:${quoteJson(context.fields[name]!(holder.row), true)}`).join(',')}}`;
  };
  const methods: Record<string, GoMethod> = {
    FullHeader: { params: [], call: () => goNil(anyType) },
    MarshalJSON: {
      params: [],
      call: (receiver) => ({ type: byteSliceType, value: [...Buffer.from(marshal(receiver), 'utf8')].map((byte) => goInt(byte, uint8Type)) }),
    },
  };
  for (const [name, field] of Object.entries(context.fields)) {
    methods[name] = { params: [], call: (receiver) => goString(field(rowOf(receiver).row)) };
  }
  for (const [name, lookup] of Object.entries(context.lookups ?? {})) {
    methods[name] = { params: [stringType], call: (receiver, [argument]) => goString(lookup(rowOf(receiver).row, argument!.value as string)) };
  }
  return { kind: 'pointer', name: context.typeName, elem, methods, marshalJSON: (value) => marshal(value), unprintable };
}

/**
 * formatter.Context.Write: each row through the template, one per line; a table format puts the
 * header line (the same template run over the header map with the header functions) on top and
 * aligns the columns. `format` is the final format: `table …`, `json`, or a template.
 */
export function writeList<Row>(rows: readonly Row[], context: ListContext<Row>, format: string): string {
  const template = parseFormat(format);
  const type = contextTypes(context);
  let buffer = '';
  for (const row of rows) {
    const holder: RowHolder<Row> = { row };
    const value: GoValue = {
      type,
      value: { type: type.elem, value: [{ type: headerContextType, value: [goNil(anyType)] }, { type: rowHolderType, value: holder }] },
    };
    try {
      buffer += template.execute(value);
    } catch (error) {
      if (error instanceof TemplateError) throw new FormatError(`template parsing error: ${error.message}`);
      throw error;
    }
    buffer += '\n';
  }
  if (!isTableFormat(format)) return buffer;
  const headers: GoValue = {
    type: subHeaderContextType,
    value: new Map(Object.entries(context.headers).map(([name, header]) => [name, goString(header)])),
  };
  let header: string;
  try {
    header = template.withFuncs(dockerHeaderFuncs).execute(headers);
  } catch (error) {
    // docker ignores a failing header; what it wrote before failing stays.
    if (!(error instanceof TemplateError)) throw error;
    header = error.output;
  }
  return tabwrite(`${header}\n${buffer}`);
}

// ---- generic tables ----

export interface TableColumn<Row> {
  /** The placeholder name, `{{.ID}}`. */
  field: string;
  /** The column header, `NETWORK ID`. */
  header: string;
  value: (row: Row) => string;
  /** Part of the default table (default true). */
  inDefault?: boolean;
}

export interface TableOptions {
  /** --format: empty for the default table, `table …`, `json`, or a template. */
  format?: string;
  /** -q: only the quiet field (unless --format names another table or template). */
  quiet?: boolean;
  /** The placeholder printed by -q (default `ID`). */
  quietField?: string;
  /** The Go type name for error messages (default `*formatter.rowContext`). */
  typeName?: string;
  /** One-argument placeholders, e.g. `Label`. */
  lookups?: ListContext<never>['lookups'];
}

/**
 * A docker-style list for any resource: `table {{.A}}\t{{.B}}…` by default, `-q` prints the quiet
 * field, `--format` takes a table, `json` or a template. Rows are printed in the order given.
 */
export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<TableColumn<Row>>, options: TableOptions = {}): string {
  const quietField = options.quietField ?? 'ID';
  const defaultFormat = `table ${columns
    .filter((column) => column.inDefault !== false)
    .map((column) => `{{.${column.field}}}`)
    .join('\t')}`;
  let format = options.format ?? '';
  if (format === '') format = 'table';
  if (format === 'table') format = options.quiet ? `{{.${quietField}}}` : defaultFormat;
  const context: ListContext<Row> = {
    typeName: options.typeName ?? '*formatter.rowContext',
    headers: Object.fromEntries(columns.map((column) => [column.field, column.header])),
    fields: Object.fromEntries(columns.map((column) => [column.field, column.value])),
    lookups: (options.lookups ?? {}) as ListContext<Row>['lookups'],
  };
  return writeList(rows, context, format);
}

// ---- docker network ls ----

export interface NetworkListOptions {
  /** --format; empty or absent means the default table. */
  format?: string;
  /** --no-trunc: full network IDs. */
  noTrunc?: boolean;
  /** -q: IDs only. */
  quiet?: boolean;
  /** networksFormat from the CLI configuration: used when --format is absent and -q is not given. */
  configFormat?: string;
}

/** The default `docker network ls` table. */
export const defaultNetworkTableFormat = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

/** stringid.TruncateID: the part after a digest algorithm, cut to 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** fvbommel/sortorder.NaturalLess: digit runs compare as numbers, other bytes as bytes. */
export function naturalLess(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const c1 = left[i]!;
    const c2 = right[j]!;
    const digit1 = isDigit(c1);
    const digit2 = isDigit(c2);
    if (digit1 !== digit2) return digit1;
    if (!digit1) {
      if (c1 !== c2) return c1 < c2;
      i++;
      j++;
      continue;
    }
    while (i < left.length && left[i] === 0x30) i++;
    while (j < right.length && right[j] === 0x30) j++;
    const nonZero1 = i;
    const nonZero2 = j;
    while (isDigit(left[i])) i++;
    while (isDigit(right[j])) j++;
    if (i - nonZero1 !== j - nonZero2) return i - nonZero1 < j - nonZero2;
    const number1 = left.subarray(nonZero1, i).toString('latin1');
    const number2 = right.subarray(nonZero2, j).toString('latin1');
    if (number1 !== number2) return number1 < number2;
    if (nonZero1 !== nonZero2) return nonZero1 < nonZero2;
  }
  // Equal so far and one of them ended: the shorter sorts first.
  return left.length < right.length;
}

function createdAt(network: ApiNetwork): string {
  try {
    return timeString(goTime(network.Created).value as typeof zeroTime);
  } catch (error) {
    // A timestamp docker could not decode either: show the zero time rather than fail the list.
    if (error instanceof DecodeError) return timeString(zeroTime);
    throw error;
  }
}

/** network.networkContext: the placeholders of `docker network ls --format`. */
export function networkListContext(options: { noTrunc?: boolean } = {}): ListContext<ApiNetwork> {
  return {
    typeName: '*network.networkContext',
    headers: {
      ID: 'NETWORK ID',
      Name: 'NAME',
      Driver: 'DRIVER',
      Scope: 'SCOPE',
      IPv4: 'IPV4',
      IPv6: 'IPV6',
      Internal: 'INTERNAL',
      Labels: 'LABELS',
      CreatedAt: 'CREATED AT',
    },
    fields: {
      ID: (network) => (options.noTrunc ? network.Id : truncateId(network.Id)),
      Name: (network) => network.Name,
      Driver: (network) => network.Driver,
      Scope: (network) => network.Scope,
      IPv4: (network) => String(network.EnableIPv4 ?? false),
      IPv6: (network) => String(network.EnableIPv6 ?? false),
      Internal: (network) => String(network.Internal ?? false),
      Labels: (network) =>
        network.Labels
          ? Object.entries(network.Labels)
              .map(([key, value]) => `${key}=${value}`)
              .sort(compareGoStrings)
              .join(',')
          : '',
      CreatedAt: createdAt,
    },
    lookups: {
      Label: (network, name) => network.Labels?.[name] ?? '',
    },
  };
}

/** network's newFormat: the default table, -q and "raw" resolved to templates. */
export function networkFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.ID}}' : defaultNetworkTableFormat;
  if (source === 'raw') {
    return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  }
  return source;
}

/** `docker network ls`: networks sorted by name (naturally), through the format. */
export function formatNetworkList(networks: readonly ApiNetwork[], options: NetworkListOptions = {}): string {
  let format = options.format ?? '';
  if (format === '') format = options.configFormat && !options.quiet ? options.configFormat : 'table';
  const sorted = networks
    .map((network, index) => ({ network, index }))
    .sort((a, b) => (naturalLess(a.network.Name, b.network.Name) ? -1 : naturalLess(b.network.Name, a.network.Name) ? 1 : a.index - b.index))
    .map(({ network }) => network);
  return writeList(sorted, networkListContext({ noTrunc: options.noTrunc ?? false }), networkFormat(format, options.quiet ?? false));
}

// ---- docker inspect ----

export interface InspectOptions {
  /**
   * The Go type docker decodes each object into (e.g. networkInspectType). Without one, objects are
   * what Go decodes JSON into (maps): a missing key prints <no value> instead of failing.
   */
  goType?: GoType;
}

/**
 * `docker inspect`: without a format, the objects as a JSON array indented by four spaces (docker
 * indents the engine's bytes with json.Indent; the engine's bytes are taken to be JSON.stringify's);
 * `json`, the array on one line; otherwise the template once per object, each followed by a newline.
 * A template runs over the typed object first and, if that fails, over the raw JSON with
 * missingkey=error (so `{{.Id}}` works as well as `{{.ID}}`).
 */
export function formatInspect(objects: readonly unknown[], format = '', options: InspectOptions = {}): string {
  if (format === '' || format === 'json') {
    if (objects.length === 0) return '[]\n';
    const raw = `[${objects.map((object) => JSON.stringify(object)).join(',')}]`;
    return `${format === 'json' ? raw : indentJson(raw, '    ')}\n`;
  }
  let template: Template;
  try {
    template = parseDockerTemplate(format);
  } catch (error) {
    if (error instanceof TemplateError) throw new FormatError(`template parsing error: ${error.message}`, { exitCode: 64 });
    throw error;
  }
  let buffer = '';
  const errors: string[] = [];
  for (const object of objects) {
    const json = JSON.parse(JSON.stringify(object) ?? 'null') as Json;
    let typed: GoValue | undefined;
    try {
      typed = options.goType ? decodeTyped(json, options.goType) : decodeRaw(json);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
    }
    try {
      if (typed === undefined) throw new TemplateError('no typed value');
      buffer += `${template.execute(typed)}\n`;
      continue;
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
    }
    try {
      buffer += `${template.execute(decodeRaw(json), { missingKey: 'error' })}\n`;
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(`template parsing error: ${error.message}`);
    }
  }
  const output = buffer === '' ? '\n' : buffer;
  if (errors.length > 0) throw new FormatError(errors.join('\n'), { exitCode: 1, output });
  return output;
}

/** `docker network inspect [--format F]` over Engine API network objects. */
export function formatNetworkInspect(networks: readonly ApiNetwork[], format = ''): string {
  return formatInspect(networks, format, { goType: networkInspectType });
}
