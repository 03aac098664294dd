/**
 * The values a Go text/template sees, modelled closely enough that `docker … --format` output can be
 * reproduced byte for byte.
 *
 * Docker's templates run over Go values, not over JSON: what `{{.IPAM.Config}}` prints depends on the
 * Go type behind the field (a struct prints `{v1 v2}` with every field, zero values included, in
 * declaration order; a map prints `map[k:v]` with sorted keys; a time.Time prints through its String
 * method). So every value here carries its Go type, and JSON reaches the template one of two ways,
 * the same two docker uses:
 *
 * - typed: decoded against a type description (`decodeTyped`), as docker decodes the API response
 *   into its Go structs (the description says which objects are structs and which are maps);
 * - raw: decoded as `encoding/json` decodes into `interface{}` with UseNumber (`decodeRaw`): objects
 *   become `map[string]interface {}`, arrays `[]interface {}`, numbers `json.Number`. docker falls
 *   back to this when a template fails on the typed value (`docker inspect`).
 *
 * A non-nil interface value is always stored as the concrete value it holds; a nil interface is a
 * value of the interface type whose `value` is null. `undefined` stands for Go's invalid
 * reflect.Value (what a missing map key yields, printed `<no value>`).
 */

/** A method callable from a template, `.Name arg…`. Throwing a `GoCallError` makes it return an error. */
export interface GoMethod {
  params: ParamType[];
  variadic?: ParamType;
  call(receiver: GoValue, args: Value[]): Value;
}

interface TypeCommon {
  /** The type as Go's reflect prints it: `string`, `[]network.IPAMConfig`, `map[string]interface {}`. */
  readonly name: string;
  readonly methods?: Readonly<Record<string, GoMethod>>;
  /** A json.Marshaler: returns the JSON text. */
  readonly marshalJSON?: (value: GoValue, escapeHTML: boolean) => string;
  /** The zero value's representation when it is not the kind's default. */
  readonly zero?: () => unknown;
  /** Set when printing the whole value cannot be reproduced (the reason, for the error message). */
  readonly unprintable?: string;
}

export interface BasicType extends TypeCommon { readonly kind: 'string' | 'bool' | 'int' | 'uint' | 'float'; readonly bits?: number }
export interface SliceType extends TypeCommon { readonly kind: 'slice'; readonly elem: GoType }
export interface MapType extends TypeCommon { readonly kind: 'map'; readonly key: GoType; readonly elem: GoType }
export interface PointerType extends TypeCommon { readonly kind: 'pointer'; readonly elem: GoType }
export interface InterfaceType extends TypeCommon { readonly kind: 'interface' }
export interface StructType extends TypeCommon { readonly kind: 'struct'; readonly fields: readonly GoField[] }

export interface GoField {
  readonly name: string;
  readonly type: GoType;
  /** The JSON key (`json:"Id"`); the field name when absent; '-' skips the field. */
  readonly json?: string;
  readonly omitEmpty?: boolean;
  /** An embedded (anonymous) field: its fields are promoted. */
  readonly embedded?: boolean;
}

export type GoType = BasicType | SliceType | MapType | PointerType | InterfaceType | StructType;

/** What a parameter accepts: a Go type, or any value at all as a `reflect.Value` (builtins). */
export type ParamType = GoType | 'reflect.Value';

export interface GoValue {
  readonly type: GoType;
  /**
   * string: string; bool: boolean; int/uint: bigint; float: number; slice: GoValue[] | null;
   * map: Map<string, GoValue> | null; struct: GoValue[] (fields in order) or the type's own
   * representation (time.Time); pointer: GoValue | null; interface: null (nil interface only).
   */
  readonly value: unknown;
}

/** A value, or undefined for Go's invalid reflect.Value. */
export type Value = GoValue | undefined;

/** An error a function or method returns (`error calling NAME: MESSAGE`). */
export class GoCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoCallError';
  }
}

/** A value or verb this reimplementation refuses rather than print differently from Go. */
export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

/** A function callable from a template. Throw GoCallError to return an error. */
export interface GoFunc {
  params: ParamType[];
  variadic?: ParamType;
  call(args: Value[]): Value;
}

export type FuncMap = Readonly<Record<string, GoFunc>>;

/** A parse or execution error, worded as Go's text/template words it. */
export class TemplateError extends Error {
  /** What the template had written before it failed (Go leaves it in the writer). */
  readonly output: string;
  constructor(message: string, output = '') {
    super(message);
    this.name = 'TemplateError';
    this.output = output;
  }
}

// ---- types ----

export const stringType: BasicType = { kind: 'string', name: 'string' };
export const boolType: BasicType = { kind: 'bool', name: 'bool' };
export const intType: BasicType = { kind: 'int', name: 'int', bits: 64 };
export const int64Type: BasicType = { kind: 'int', name: 'int64', bits: 64 };
export const uint8Type: BasicType = { kind: 'uint', name: 'uint8', bits: 8 };
export const float64Type: BasicType = { kind: 'float', name: 'float64', bits: 64 };
export const anyType: InterfaceType = { kind: 'interface', name: 'interface {}' };

const sliceTypes = new Map<GoType, SliceType>();
const mapTypes = new Map<string, MapType>();

/** `[]elem` (one shared description per element type, so type identity is object identity too). */
export function sliceOf(elem: GoType): SliceType {
  let type = sliceTypes.get(elem);
  if (!type) {
    type = { kind: 'slice', name: `[]${elem.name}`, elem };
    sliceTypes.set(elem, type);
  }
  return type;
}

/** `map[string]elem`. */
export function mapOf(elem: GoType, key: GoType = stringType): MapType {
  const name = `map[${key.name}]${elem.name}`;
  let type = mapTypes.get(name);
  if (!type) {
    type = { kind: 'map', name, key, elem };
    mapTypes.set(name, type);
  }
  return type;
}

export const stringSliceType = sliceOf(stringType);
export const byteSliceType = sliceOf(uint8Type);
export const stringMapType = mapOf(stringType);
export const anySliceType = sliceOf(anyType);
export const anyMapType = mapOf(anyType);

/** Go's json.Number: a string type printed through its String method. */
export const jsonNumberType: BasicType = {
  kind: 'string',
  name: 'json.Number',
  methods: {
    String: { params: [], call: (receiver) => goString(receiver.value as string) },
    Int64: {
      params: [],
      call: (receiver) => {
        const text = receiver.value as string;
        if (!/^[+-]?\d+$/.test(text)) throw new GoCallError(`strconv.ParseInt: parsing ${quoteGo(text)}: invalid syntax`);
        return goInt(BigInt(text), int64Type);
      },
    },
    Float64: { params: [], call: (receiver) => goFloat(Number(receiver.value)) },
  },
};

/** Types are identical when they are the same description or have the same (unique) name. */
export function sameType(a: GoType, b: GoType): boolean {
  return a === b || a.name === b.name;
}

export function canBeNil(type: ParamType): boolean {
  if (type === 'reflect.Value') return true;
  return type.kind === 'slice' || type.kind === 'map' || type.kind === 'pointer' || type.kind === 'interface';
}

export function paramTypeName(type: ParamType): string {
  return type === 'reflect.Value' ? 'reflect.Value' : type.name;
}

// ---- values ----

export const goString = (text: string, type: GoType = stringType): GoValue => ({ type, value: text });
export const goBool = (truth: boolean): GoValue => ({ type: boolType, value: truth });
export const goInt = (n: bigint | number, type: GoType = intType): GoValue => ({ type, value: BigInt(n) });
export const goFloat = (n: number): GoValue => ({ type: float64Type, value: n });
export const goNil = (type: GoType): GoValue => ({ type, value: null });
export const goSlice = (type: SliceType, items: GoValue[] | null): GoValue => ({ type, value: items });
export const goMap = (type: MapType, entries: Map<string, GoValue> | null): GoValue => ({ type, value: entries });
export const goStruct = (type: StructType, fields: GoValue[]): GoValue => ({ type, value: fields });
export const goPointer = (type: PointerType, target: GoValue | null): GoValue => ({ type, value: target });

/** A []string value from JS strings. */
export const goStrings = (items: readonly string[]): GoValue => goSlice(stringSliceType, items.map((item) => goString(item)));

/** A map[string]string value from a JS record (null stays a nil map). */
export function goStringMap(record: Readonly<Record<string, string>> | null | undefined): GoValue {
  if (record === null || record === undefined) return goMap(stringMapType, null);
  return goMap(stringMapType, new Map(Object.entries(record).map(([key, text]) => [key, goString(text)])));
}

/** The zero value of a type. */
export function zeroValue(type: GoType): GoValue {
  if (type.zero) return { type, value: type.zero() };
  switch (type.kind) {
    case 'string':
      return { type, value: '' };
    case 'bool':
      return { type, value: false };
    case 'int':
    case 'uint':
      return { type, value: 0n };
    case 'float':
      return { type, value: 0 };
    case 'struct':
      return { type, value: type.fields.map((field) => zeroValue(field.type)) };
    default:
      return { type, value: null };
  }
}

/** Whether a value is nil (or invalid), as the template builtins judge it. */
export function isNilValue(value: Value): boolean {
  if (value === undefined) return true;
  const kind = value.type.kind;
  return (kind === 'slice' || kind === 'map' || kind === 'pointer' || kind === 'interface') && value.value === null;
}

/** Go's `len` of a string (bytes), slice or map. */
export function lengthOf(value: GoValue): number {
  switch (value.type.kind) {
    case 'string':
      return Buffer.byteLength(value.value as string, 'utf8');
    case 'slice':
      return (value.value as GoValue[] | null)?.length ?? 0;
    case 'map':
      return (value.value as Map<string, GoValue> | null)?.size ?? 0;
    default:
      throw new Error(`len of type ${value.type.name}`);
  }
}

/** A struct field found by name, following embedded structs the way Go promotes their fields. */
export function findField(type: StructType, name: string): { path: number[]; field: GoField } | undefined {
  const direct = type.fields.findIndex((field) => field.name === name);
  if (direct >= 0) return { path: [direct], field: type.fields[direct]! };
  for (let index = 0; index < type.fields.length; index++) {
    const field = type.fields[index]!;
    if (!field.embedded) continue;
    const inner = field.type.kind === 'pointer' ? field.type.elem : field.type;
    if (inner.kind !== 'struct') continue;
    const found = findField(inner, name);
    if (found) return { path: [index, ...found.path], field: found.field };
  }
  return undefined;
}

export function isExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

/** Compares two Go strings by their UTF-8 bytes (code point order), as Go's < does. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const x = left[index]!.codePointAt(0)!;
    const y = right[index]!.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/** The keys of a map in the order fmt and text/template visit them (sorted, bytewise). */
export function sortedKeys(entries: Map<string, GoValue>): string[] {
  return [...entries.keys()].sort(compareGoStrings);
}

// ---- indirection and truth (text/template/exec.go) ----

/** Go's indirect: through pointers and interfaces; reports a nil on the way. */
export function indirect(value: Value): { value: Value; isNil: boolean } {
  let current = value;
  while (current && (current.type.kind === 'pointer' || current.type.kind === 'interface')) {
    if (current.value === null) return { value: current, isNil: true };
    current = current.value as GoValue;
  }
  return { value: current, isNil: false };
}

/** Go's indirectInterface: a nil interface becomes the invalid value. */
export function indirectInterface(value: Value): Value {
  if (value && value.type.kind === 'interface') return undefined;
  return value;
}

/** Go's isTrue: the truth of a value and whether it has one. */
export function isTrue(value: Value): { truth: boolean; ok: boolean } {
  if (value === undefined) return { truth: false, ok: true };
  switch (value.type.kind) {
    case 'string':
    case 'slice':
    case 'map':
      return { truth: lengthOf(value) > 0, ok: true };
    case 'bool':
      return { truth: value.value as boolean, ok: true };
    case 'int':
    case 'uint':
      return { truth: (value.value as bigint) !== 0n, ok: true };
    case 'float':
      return { truth: (value.value as number) !== 0, ok: true };
    case 'pointer':
    case 'interface':
      return { truth: value.value !== null, ok: true };
    case 'struct':
      return { truth: true, ok: true };
  }
}

export function truth(value: Value): boolean {
  return isTrue(indirectInterface(value)).truth;
}

// ---- JSON into Go values ----

/** JSON as JSON.parse returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Thrown when JSON does not fit the Go type it is decoded into (encoding/json would fail too). */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** JSON decoded into `interface{}` with UseNumber, as docker's inspect fallback does. */
export function decodeRaw(json: Json): GoValue {
  if (json === null) return goNil(anyType);
  if (typeof json === 'string') return goString(json);
  if (typeof json === 'boolean') return goBool(json);
  if (typeof json === 'number') return goString(jsonNumberText(json), jsonNumberType);
  if (Array.isArray(json)) return goSlice(anySliceType, json.map(decodeRaw));
  return goMap(anyMapType, new Map(Object.entries(json).map(([key, item]) => [key, decodeRaw(item)])));
}

/** A JS number as the engine's JSON writes it (JSON.stringify). */
function jsonNumberText(n: number): string {
  return JSON.stringify(n);
}

/** JSON decoded into a Go type, as encoding/json.Unmarshal does (keys matched case-insensitively too). */
export function decodeTyped(json: Json | undefined, type: GoType, path = ''): GoValue {
  if (json === undefined || json === null) {
    // null leaves Go's zero value (a nil map, slice, pointer or interface).
    return zeroValue(type);
  }
  const where = () => (path === '' ? '' : ` (at ${path})`);
  const mismatch = (): never => {
    throw new DecodeError(`cannot decode ${Array.isArray(json) ? 'array' : typeof json} into Go value of type ${type.name}${where()}`);
  };
  if (type.name === 'time.Time') {
    if (typeof json !== 'string') return mismatch();
    const parsed = parseRfc3339(json);
    if (!parsed) throw new DecodeError(`parsing time ${quoteGo(json)} as RFC 3339${where()}`);
    return { type, value: parsed };
  }
  switch (type.kind) {
    case 'string':
      if (type.name === 'json.Number') {
        if (typeof json === 'number') return goString(jsonNumberText(json), type);
        if (typeof json === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(json)) return goString(json, type);
        return mismatch();
      }
      return typeof json === 'string' ? goString(json, type) : mismatch();
    case 'bool':
      return typeof json === 'boolean' ? { type, value: json } : mismatch();
    case 'int':
    case 'uint':
      if (typeof json !== 'number' || !Number.isInteger(json) || (type.kind === 'uint' && json < 0)) return mismatch();
      return { type, value: BigInt(json) };
    case 'float':
      return typeof json === 'number' ? { type, value: json } : mismatch();
    case 'interface':
      return decodeRaw(json);
    case 'pointer':
      return { type, value: decodeTyped(json, type.elem, path) };
    case 'slice':
      if (!Array.isArray(json)) return mismatch();
      return { type, value: json.map((item, index) => decodeTyped(item, type.elem, `${path}[${index}]`)) };
    case 'map': {
      if (typeof json !== 'object' || Array.isArray(json)) return mismatch();
      const entries = new Map<string, GoValue>();
      for (const [key, item] of Object.entries(json)) entries.set(key, decodeTyped(item, type.elem, `${path}.${key}`));
      return { type, value: entries };
    }
    case 'struct': {
      if (typeof json !== 'object' || Array.isArray(json)) return mismatch();
      return { type, value: decodeStructFields(json, type, path) };
    }
  }
}

function decodeStructFields(object: { [key: string]: Json }, type: StructType, path: string): GoValue[] {
  const keys = Object.keys(object);
  return type.fields.map((field) => {
    if (field.embedded && !field.json && field.type.kind === 'struct') {
      // encoding/json inlines the fields of an embedded struct.
      return { type: field.type, value: decodeStructFields(object, field.type, path) };
    }
    const jsonName = field.json ?? field.name;
    if (jsonName === '-' || !isExported(field.name)) return zeroValue(field.type);
    const key = keys.includes(jsonName) ? jsonName : keys.find((candidate) => candidate.toLowerCase() === jsonName.toLowerCase());
    return key === undefined ? zeroValue(field.type) : decodeTyped(object[key], field.type, `${path}.${field.name}`);
  });
}

// ---- Go values into JSON (encoding/json) ----

/**
 * JSON text of a value, as Go's encoding/json writes it: struct fields in order with their tags,
 * map keys sorted, nil slices and maps as null, []byte as base64, time.Time as RFC 3339.
 */
export function marshalJson(value: Value, escapeHTML: boolean): string {
  if (value === undefined) return 'null';
  const type = value.type;
  if (type.marshalJSON) return type.marshalJSON(value, escapeHTML);
  switch (type.kind) {
    case 'string':
      return type.name === 'json.Number' ? (value.value as string) || '0' : quoteJson(value.value as string, escapeHTML);
    case 'bool':
    case 'int':
    case 'uint':
      return String(value.value);
    case 'float':
      return jsonFloat(value.value as number);
    case 'interface':
      return 'null';
    case 'pointer':
      return value.value === null ? 'null' : marshalJson(value.value as GoValue, escapeHTML);
    case 'slice': {
      const items = value.value as GoValue[] | null;
      if (items === null) return 'null';
      if (type.elem.kind === 'uint' && type.elem.bits === 8) {
        return `"${Buffer.from(items.map((item) => Number(item.value))).toString('base64')}"`;
      }
      return `[${items.map((item) => marshalJson(item, escapeHTML)).join(',')}]`;
    }
    case 'map': {
      const entries = value.value as Map<string, GoValue> | null;
      if (entries === null) return 'null';
      return `{${sortedKeys(entries)
        .map((key) => `${quoteJson(key, escapeHTML)}:${marshalJson(entries.get(key), escapeHTML)}`)
        .join(',')}}`;
    }
    case 'struct':
      return `{${structMembers(value, escapeHTML).join(',')}}`;
  }
}

function structMembers(value: GoValue, escapeHTML: boolean): string[] {
  const type = value.type as StructType;
  const fields = value.value as GoValue[];
  const members: string[] = [];
  type.fields.forEach((field, index) => {
    const fieldValue = fields[index]!;
    if (field.embedded && !field.json && field.type.kind === 'struct' && !field.type.marshalJSON) {
      members.push(...structMembers(fieldValue, escapeHTML));
      return;
    }
    const name = field.json ?? field.name;
    if (name === '-' || !isExported(field.name)) return;
    if (field.omitEmpty && isEmptyForJson(fieldValue)) return;
    members.push(`${quoteJson(name, escapeHTML)}:${marshalJson(fieldValue, escapeHTML)}`);
  });
  return members;
}

function isEmptyForJson(value: GoValue): boolean {
  switch (value.type.kind) {
    case 'string':
      return value.value === '';
    case 'bool':
      return value.value === false;
    case 'int':
    case 'uint':
      return value.value === 0n;
    case 'float':
      return value.value === 0;
    case 'slice':
    case 'map':
      return value.value === null || lengthOf(value) === 0;
    case 'pointer':
    case 'interface':
      return value.value === null;
    case 'struct':
      return false;
  }
}

/** A float as encoding/json writes it ('f' format, 'e' below 1e-6 or from 1e21: JS agrees). */
function jsonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new GoCallError(`json: unsupported value: ${n}`);
  return Object.is(n, -0) ? '-0' : String(n);
}

/** A JSON string literal as encoding/json escapes it (Go 1.22+: \b and \f written short). */
export function quoteJson(text: string, escapeHTML: boolean): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    switch (char) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
    }
    if (code < 0x20 || (escapeHTML && (char === '<' || char === '>' || char === '&')) || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += '\\ufffd'; // a lone surrogate is invalid UTF-8 to Go
    } else {
      out += char;
    }
  }
  return `${out}"`;
}

/**
 * Indents JSON text as Go's json.Indent does (prefix "", the given indent): no whitespace is kept,
 * `{}` and `[]` stay on one line, a space follows each colon; strings and numbers are copied as they are.
 */
export function indentJson(text: string, indent: string): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  let inString = false;
  let escaped = false;
  const newline = (level: number) => `\n${indent.repeat(level)}`;
  for (const char of text) {
    if (inString) {
      out += char;
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') continue;
    if (needIndent && char !== '}' && char !== ']') {
      needIndent = false;
      depth++;
      out += newline(depth);
    }
    switch (char) {
      case '"':
        inString = true;
        out += char;
        break;
      case '{':
      case '[':
        needIndent = true;
        out += char;
        break;
      case ',':
        out += char + newline(depth);
        break;
      case ':':
        out += ': ';
        break;
      case '}':
      case ']':
        if (needIndent) needIndent = false;
        else {
          depth--;
          out += newline(depth);
        }
        out += char;
        break;
      default:
        out += char;
    }
  }
  return out;
}

// ---- strconv.Quote ----

/** Go's unicode.IsPrint, approximated with JS's Unicode property classes. */
export function isPrintGo(char: string): boolean {
  return char === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char);
}

/** strconv.Quote (or QuoteToASCII): a double-quoted Go string literal. */
export function quoteGo(text: string, asciiOnly = false): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') {
      out += `\\${char}`;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      out += '\\ufffd';
      continue;
    }
    if (asciiOnly ? code < 0x80 && isPrintGo(char) : isPrintGo(char)) {
      out += char;
      continue;
    }
    switch (char) {
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** strconv.CanBackquote. */
export function canBackquote(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '`' || code === 0xfeff) return false;
    if (code < 0x20 && char !== '\t') return false;
    if (code === 0x7f) return false;
  }
  return true;
}

// ---- time.Time ----

/** A time.Time: the instant (whole seconds since 1970 UTC plus nanoseconds) and its zone. */
export interface GoTime {
  readonly unixSeconds: number;
  readonly nanosecond: number;
  /** Seconds east of UTC. */
  readonly offset: number;
  /** The zone abbreviation; '' for a fixed zone without a name (printed as the offset). */
  readonly zone: string;
}

/** How Go's Local zone looks at an instant: its abbreviation and offset. */
export type LocalZone = (unixSeconds: number) => { name: string; offset: number };

/** The Local zone of a Go program run with TZ unset and no /etc/localtime: UTC. */
export const utcLocalZone: LocalZone = () => ({ name: 'UTC', offset: 0 });

let localZone: LocalZone = utcLocalZone;

/**
 * Sets the zone Go's time.Parse would consult for numeric offsets (the CLI's Local zone). Offsets
 * equal to Local's at that instant take its name (`+0100 CET`), others print as `+0100 +0100`.
 */
export function setLocalZone(zone: LocalZone): void {
  localZone = zone;
}

const ZERO_UNIX_SECONDS = -62135596800; // 0001-01-01T00:00:00Z

export const zeroTime: GoTime = { unixSeconds: ZERO_UNIX_SECONDS, nanosecond: 0, offset: 0, zone: 'UTC' };

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** The wall clock of a time in its own zone. */
export function civil(time: GoTime): { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number; yearDay: number } {
  const local = time.unixSeconds + time.offset;
  const days = Math.floor(local / 86400);
  const seconds = local - days * 86400;
  const date = civilFromDays(days);
  return {
    ...date,
    hour: Math.floor(seconds / 3600),
    minute: Math.floor((seconds % 3600) / 60),
    second: seconds % 60,
    weekday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
    yearDay: days - daysFromCivil(date.year, 1, 1) + 1,
  };
}

/** Parses an RFC 3339 timestamp as Go's time.Time.UnmarshalJSON does; undefined when invalid. */
export function parseRfc3339(text: string): GoTime | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59) return undefined;
  const nanosecond = match[7] ? Number(match[7].slice(0, 9).padEnd(9, '0')) : 0;
  const wall = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  if (match[8]) return { unixSeconds: wall, nanosecond, offset: 0, zone: 'UTC' };
  const offset = (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 3600 + Number(match[11]) * 60);
  const unixSeconds = wall - offset;
  const local = localZone(unixSeconds);
  return { unixSeconds, nanosecond, offset, zone: local.offset === offset ? local.name : '' };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const dayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * time.Time.Format: the layout's reference-time elements (2006 01 02 15 04 05 Jan Mon MST -0700 Z07:00
 * .000 .999 PM …) replaced by this time's; other text is copied.
 */
export function formatTime(time: GoTime, layout: string): string {
  const c = civil(time);
  let out = '';
  let rest = layout;
  const zoneOffset = (colon: boolean, seconds: boolean, short: boolean, zIfUtc: boolean) => {
    if (zIfUtc && time.offset === 0) return 'Z';
    const sign = time.offset < 0 ? '-' : '+';
    const abs = Math.abs(time.offset);
    const hours = pad(Math.floor(abs / 3600), 2);
    const minutes = pad(Math.floor((abs % 3600) / 60), 2);
    if (short) return sign + hours;
    const secondsPart = seconds ? (colon ? ':' : '') + pad(abs % 60, 2) : '';
    return sign + hours + (colon ? ':' : '') + minutes + secondsPart;
  };
  const fraction = (digits: number, trim: boolean, separator: string) => {
    let text = pad(time.nanosecond, 9).slice(0, digits);
    if (trim) {
      text = text.replace(/0+$/, '');
      return text === '' ? '' : separator + text;
    }
    return separator + text;
  };
  const elements: Array<[string, () => string]> = [
    ['January', () => monthNames[c.month - 1]!],
    ['Jan', () => monthNames[c.month - 1]!.slice(0, 3)],
    ['Monday', () => dayNames[c.weekday]!],
    ['Mon', () => dayNames[c.weekday]!.slice(0, 3)],
    ['MST', () => time.zone || zoneOffset(false, false, false, false)],
    ['2006', () => pad(c.year, 4)],
    ['Z07:00:00', () => zoneOffset(true, true, false, true)],
    ['-07:00:00', () => zoneOffset(true, true, false, false)],
    ['Z070000', () => zoneOffset(false, true, false, true)],
    ['-070000', () => zoneOffset(false, true, false, false)],
    ['Z07:00', () => zoneOffset(true, false, false, true)],
    ['-07:00', () => zoneOffset(true, false, false, false)],
    ['Z0700', () => zoneOffset(false, false, false, true)],
    ['-0700', () => zoneOffset(false, false, false, false)],
    ['Z07', () => zoneOffset(false, false, true, true)],
    ['-07', () => zoneOffset(false, false, true, false)],
    ['002', () => pad(c.yearDay, 3)],
    ['__2', () => String(c.yearDay).padStart(3, ' ')],
    ['01', () => pad(c.month, 2)],
    ['02', () => pad(c.day, 2)],
    ['_2', () => String(c.day).padStart(2, ' ')],
    ['06', () => pad(c.year % 100, 2)],
    ['15', () => pad(c.hour, 2)],
    ['03', () => pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2)],
    ['04', () => pad(c.minute, 2)],
    ['05', () => pad(c.second, 2)],
    ['PM', () => (c.hour >= 12 ? 'PM' : 'AM')],
    ['pm', () => (c.hour >= 12 ? 'pm' : 'am')],
    ['1', () => String(c.month)],
    ['2', () => String(c.day)],
    ['3', () => String(c.hour % 12 === 0 ? 12 : c.hour % 12)],
    ['4', () => String(c.minute)],
    ['5', () => String(c.second)],
  ];
  outer: while (rest.length > 0) {
    // Fractional seconds: [.,] then a run of 0s or 9s that no other digit follows.
    const fractionMatch = /^([.,])(0+|9+)(?![0-9])/.exec(rest);
    if (fractionMatch) {
      const [whole, separator, digits] = fractionMatch as unknown as [string, string, string];
      out += fraction(digits.length, digits[0] === '9', separator);
      rest = rest.slice(whole.length);
      continue;
    }
    if (rest.startsWith('_2006')) {
      // Go reads "_2006" as a literal underscore and the year.
      out += '_';
      rest = rest.slice(1);
      continue;
    }
    for (const [element, render] of elements) {
      if (!rest.startsWith(element)) continue;
      // Go: "Jan"/"Mon" must not be followed by a lower-case letter to count.
      if ((element === 'Jan' || element === 'Mon') && /^[a-z]/.test(rest.slice(element.length))) continue;
      out += render();
      rest = rest.slice(element.length);
      continue outer;
    }
    out += rest[0];
    rest = rest.slice(1);
  }
  return out;
}

/** time.Time.String: `2006-01-02 15:04:05.999999999 -0700 MST`. */
export function timeString(time: GoTime): string {
  return formatTime(time, '2006-01-02 15:04:05.999999999 -0700 MST');
}

const timeMonthType: BasicType = {
  kind: 'int',
  name: 'time.Month',
  bits: 64,
  methods: {
    String: { params: [], call: (receiver) => goString(monthNames[Number(receiver.value) - 1] ?? `%!Month(${receiver.value})`) },
  },
};

const timeWeekdayType: BasicType = {
  kind: 'int',
  name: 'time.Weekday',
  bits: 64,
  methods: {
    String: { params: [], call: (receiver) => goString(dayNames[Number(receiver.value)] ?? `%!Weekday(${receiver.value})`) },
  },
};

const timeOf = (receiver: GoValue) => receiver.value as GoTime;
const timeIntMethod = (pick: (time: GoTime) => number | bigint, type: BasicType = intType): GoMethod => ({
  params: [],
  call: (receiver) => goInt(pick(timeOf(receiver)), type),
});

/** time.Time: prints through String, marshals as RFC 3339 with nanoseconds, and has the usual accessors. */
export const timeType: StructType = {
  kind: 'struct',
  name: 'time.Time',
  fields: [],
  zero: () => zeroTime,
  marshalJSON: (value) => `"${formatTime(value.value as GoTime, '2006-01-02T15:04:05.999999999Z07:00')}"`,
  methods: {
    String: { params: [], call: (receiver) => goString(timeString(timeOf(receiver))) },
    Format: { params: [stringType], call: (receiver, [layout]) => goString(formatTime(timeOf(receiver), layout!.value as string)) },
    UTC: { params: [], call: (receiver) => ({ type: timeType, value: { ...timeOf(receiver), offset: 0, zone: 'UTC' } }) },
    IsZero: {
      params: [],
      call: (receiver) => goBool(timeOf(receiver).unixSeconds === ZERO_UNIX_SECONDS && timeOf(receiver).nanosecond === 0),
    },
    Unix: timeIntMethod((time) => time.unixSeconds, int64Type),
    UnixMilli: timeIntMethod((time) => BigInt(time.unixSeconds) * 1000n + BigInt(Math.floor(time.nanosecond / 1e6)), int64Type),
    UnixNano: timeIntMethod((time) => BigInt(time.unixSeconds) * 1_000_000_000n + BigInt(time.nanosecond), int64Type),
    Year: timeIntMethod((time) => civil(time).year),
    Month: timeIntMethod((time) => civil(time).month, timeMonthType),
    Day: timeIntMethod((time) => civil(time).day),
    Hour: timeIntMethod((time) => civil(time).hour),
    Minute: timeIntMethod((time) => civil(time).minute),
    Second: timeIntMethod((time) => civil(time).second),
    Nanosecond: timeIntMethod((time) => time.nanosecond),
    YearDay: timeIntMethod((time) => civil(time).yearDay),
    Weekday: timeIntMethod((time) => civil(time).weekday, timeWeekdayType),
  },
};

/** A time.Time value from an RFC 3339 string (the zero time for '' or undefined). */
export function goTime(text: string | undefined): GoValue {
  if (text === undefined || text === '') return { type: timeType, value: zeroTime };
  const parsed = parseRfc3339(text);
  if (!parsed) throw new DecodeError(`parsing time ${quoteGo(text)} as RFC 3339`);
  return { type: timeType, value: parsed };
}
