/**
 * Go's builtin template functions (text/template/funcs.go): and, or, not, len, index, slice, print,
 * printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, call. `and`, `or` and `call` are
 * carried out by the executor (short-circuit; no function values exist here); their entries only
 * give their signatures.
 */
import { describeValue, sprint, sprintf, sprintln } from './template-fmt.js';
import type { FmtArg } from './template-fmt.js';
import {
  anyType,
  canBeNil,
  compareGoStrings,
  GoCallError,
  goBool,
  goInt,
  goString,
  indirect,
  indirectInterface,
  isNilValue,
  lengthOf,
  sameType,
  stringType,
  truth,
  uint8Type,
  zeroValue,
} from './template-values.js';
import type { FuncMap, GoFunc, GoType, GoValue, Value } from './template-values.js';

type Kind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string';

function basicKind(value: Value): Kind {
  if (value === undefined) return 'invalid';
  const kind = value.type.kind;
  return kind === 'bool' || kind === 'int' || kind === 'uint' || kind === 'float' || kind === 'string' ? kind : 'invalid';
}

function isComparableType(type: GoType): boolean {
  switch (type.kind) {
    case 'slice':
    case 'map':
      return false;
    case 'struct':
      return type.fields.every((field) => isComparableType(field.type));
    default:
      return true;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function eq(arg1Value: Value, rest: Value[]): boolean {
  const arg1 = indirectInterface(arg1Value);
  if (rest.length === 0) throw new GoCallError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const argValue of rest) {
    const arg = indirectInterface(argValue);
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') truth = (arg1!.value as bigint) >= 0n && arg1!.value === arg!.value;
      else if (k1 === 'uint' && k2 === 'int') truth = (arg!.value as bigint) >= 0n && arg1!.value === arg!.value;
      else if (arg1 !== undefined && arg !== undefined) {
        throw new GoCallError(`incompatible types for comparison: ${arg1.type.name} and ${arg.type.name}`);
      }
    } else if (k1 !== 'invalid') {
      truth = arg1!.value === arg!.value;
    } else {
      const kind1 = arg1?.type.kind;
      const kind2 = arg?.type.kind;
      if (kind1 !== kind2 && arg1 !== undefined && arg !== undefined) {
        throw new GoCallError(`non-comparable types ${describeValue(arg1)}: ${arg1.type.name}, ${arg.type.name}: ${describeValue(arg)}`);
      }
      if (isNilValue(arg1) || isNilValue(arg)) truth = isNilValue(arg) === isNilValue(arg1);
      else {
        if (!isComparableType(arg!.type)) throw new GoCallError(`non-comparable type ${describeValue(arg)}: ${arg!.type.name}`);
        truth = sameType(arg1!.type, arg!.type) && deepEqual(arg1!.value, arg!.value);
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1Value: Value, arg2Value: Value): boolean {
  const arg1 = indirectInterface(arg1Value);
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoCallError('invalid type for comparison');
  const arg2 = indirectInterface(arg2Value);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoCallError('invalid type for comparison');
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return (arg1!.value as bigint) < 0n || (arg1!.value as bigint) < (arg2!.value as bigint);
    if (k1 === 'uint' && k2 === 'int') return (arg2!.value as bigint) >= 0n && (arg1!.value as bigint) < (arg2!.value as bigint);
    throw new GoCallError(`incompatible types for comparison: ${arg1!.type.name} and ${arg2!.type.name}`);
  }
  switch (k1) {
    case 'bool':
      throw new GoCallError('invalid type for comparison');
    case 'string':
      return compareGoStrings(arg1!.value as string, arg2!.value as string) < 0;
    default:
      return (arg1!.value as number | bigint) < (arg2!.value as number | bigint);
  }
}

function le(arg1: Value, arg2: Value): boolean {
  return lt(arg1, arg2) || eq(arg1, [arg2]);
}

/** Go's indexArg: an integer index within [0, cap]. */
function indexArg(index: Value, cap: number): number {
  if (index === undefined) throw new GoCallError('cannot index slice/array with nil');
  if (index.type.kind !== 'int' && index.type.kind !== 'uint') throw new GoCallError(`cannot index slice/array with type ${index.type.name}`);
  const x = index.value as bigint;
  if (x < 0n || x > BigInt(cap)) throw new GoCallError(`index out of range: ${x}`);
  return Number(x);
}

function stringBytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function indexFn(itemValue: Value, indexes: Value[]): Value {
  let item = indirectInterface(itemValue);
  if (item === undefined) throw new GoCallError('index of untyped nil');
  for (const indexValue of indexes) {
    const index = indirectInterface(indexValue);
    const resolved = indirect(item);
    if (resolved.isNil) throw new GoCallError('index of nil pointer');
    item = resolved.value!;
    switch (item.type.kind) {
      case 'string': {
        const bytes = stringBytes(item.value as string);
        const x = indexArg(index, bytes.length);
        if (x === bytes.length) throw new GoCallError(`index out of range: ${x}`);
        item = goInt(bytes[x]!, uint8Type);
        break;
      }
      case 'slice': {
        const items = (item.value as GoValue[] | null) ?? [];
        const x = indexArg(index, items.length);
        if (x === items.length) throw new GoCallError(`index out of range: ${x}`);
        item = items[x]!;
        break;
      }
      case 'map': {
        const type = item.type;
        if (index === undefined) {
          if (!canBeNil(type.key)) throw new GoCallError(`value is nil; should be of type ${type.key.name}`);
          item = zeroValue(type.elem);
          break;
        }
        if (!sameType(index.type, type.key) && type.key.kind !== 'interface') {
          throw new GoCallError(`value has type ${index.type.name}; should be ${type.key.name}`);
        }
        item = (item.value as Map<string, GoValue> | null)?.get(String(index.value)) ?? zeroValue(type.elem);
        break;
      }
      default:
        throw new GoCallError(`can't index item of type ${item.type.name}`);
    }
  }
  return item;
}

function sliceFn(itemValue: Value, indexes: Value[]): Value {
  const item = indirectInterface(itemValue);
  if (item === undefined) throw new GoCallError('slice of untyped nil');
  if (indexes.length > 3) throw new GoCallError(`too many slice indexes: ${indexes.length}`);
  let length: number;
  if (item.type.kind === 'string') {
    if (indexes.length === 3) throw new GoCallError('cannot 3-index slice a string');
    length = stringBytes(item.value as string).length;
  } else if (item.type.kind === 'slice') {
    length = ((item.value as GoValue[] | null) ?? []).length;
  } else {
    throw new GoCallError(`can't slice item of type ${item.type.name}`);
  }
  const idx = [0, length, length];
  indexes.forEach((index, position) => {
    idx[position] = indexArg(indirectInterface(index), length);
  });
  if (idx[0]! > idx[1]!) throw new GoCallError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new GoCallError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (item.type.kind === 'string') return goString(stringBytes(item.value as string).subarray(idx[0], idx[1]).toString('utf8'), item.type);
  const items = item.value as GoValue[] | null;
  return { type: item.type, value: items === null && idx[0] === 0 && idx[1] === 0 ? null : (items ?? []).slice(idx[0], idx[1]) };
}

/** text/template's evalArgs: fmt.Sprint, except that a lone string is used as is and nil prints <no value>. */
function evalArgs(args: Value[]): string {
  if (args.length === 1 && args[0]?.type.kind === 'string' && args[0].type.name === 'string') return args[0].value as string;
  return sprint(
    args.map((arg) => {
      const value = indirectInterface(arg);
      if (value === undefined) return goString('<no value>');
      if (value.type.kind === 'pointer') return indirect(value).value ?? value;
      return value;
    }),
  );
}

function htmlEscape(text: string): string {
  return text.replace(/[\0"'&<>]/g, (char) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[char]!);
}

function jsEscape(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
    if (named[char] !== undefined) out += named[char];
    else if (code < 0x20) out += `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (code >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char)) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += char;
  }
  return out;
}

/** Go's url.QueryEscape. */
function queryEscape(text: string): string {
  let out = '';
  for (const byte of stringBytes(text)) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const fmtArgs = (args: Value[]): FmtArg[] => args;

const builtinList = {
  and: { params: ['reflect.Value'], variadic: 'reflect.Value', call: () => undefined },
  or: { params: ['reflect.Value'], variadic: 'reflect.Value', call: () => undefined },
  call: { params: ['reflect.Value'], variadic: 'reflect.Value', call: () => undefined },
  not: { params: ['reflect.Value'], call: ([arg]) => goBool(!truth(arg)) },
  len: {
    params: ['reflect.Value'],
    call: ([arg]) => {
      const { value, isNil } = indirect(arg);
      if (isNil) throw new GoCallError('len of nil pointer');
      if (value === undefined) throw new GoCallError('reflect: call of reflect.Value.Type on zero Value');
      if (value.type.kind === 'string' || value.type.kind === 'slice' || value.type.kind === 'map') return goInt(lengthOf(value));
      throw new GoCallError(`len of type ${value.type.name}`);
    },
  },
  index: { params: ['reflect.Value'], variadic: 'reflect.Value', call: ([item, ...indexes]) => indexFn(item, indexes) },
  slice: { params: ['reflect.Value'], variadic: 'reflect.Value', call: ([item, ...indexes]) => sliceFn(item, indexes) },
  print: { params: [], variadic: anyType, call: (args) => goString(sprint(fmtArgs(args))) },
  println: { params: [], variadic: anyType, call: (args) => goString(sprintln(fmtArgs(args))) },
  printf: { params: [stringType], variadic: anyType, call: ([format, ...args]) => goString(sprintf(format!.value as string, fmtArgs(args))) },
  html: { params: [], variadic: anyType, call: (args) => goString(htmlEscape(evalArgs(args))) },
  js: { params: [], variadic: anyType, call: (args) => goString(jsEscape(evalArgs(args))) },
  urlquery: { params: [], variadic: anyType, call: (args) => goString(queryEscape(evalArgs(args))) },
  eq: { params: ['reflect.Value'], variadic: 'reflect.Value', call: ([arg1, ...rest]) => goBool(eq(arg1, rest)) },
  ne: { params: ['reflect.Value', 'reflect.Value'], call: ([a, b]) => goBool(!eq(a, [b])) },
  lt: { params: ['reflect.Value', 'reflect.Value'], call: ([a, b]) => goBool(lt(a, b)) },
  le: { params: ['reflect.Value', 'reflect.Value'], call: ([a, b]) => goBool(le(a, b)) },
  gt: { params: ['reflect.Value', 'reflect.Value'], call: ([a, b]) => goBool(!le(a, b)) },
  ge: { params: ['reflect.Value', 'reflect.Value'], call: ([a, b]) => goBool(!lt(a, b)) },
} satisfies Record<string, GoFunc>;

/** Go's builtin template functions. */
export const builtins: FuncMap = builtinList;
