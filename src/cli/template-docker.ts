/**
 * The functions docker adds to every --format template (docker/cli templates/templates.go): json,
 * split, join, title, lower, upper, pad, truncate; and the stand-ins it swaps in when it renders a
 * table header, so that `{{upper .Name}}` still heads its column with NAME.
 */
import { sprint } from './template-fmt.js';
import { Template } from './template.js';
import type { FuncMap, GoFunc } from './template.js';
import {
  anyType,
  compareGoStrings,
  GoCallError,
  goString,
  goStrings,
  intType,
  marshalJson,
  sortedKeys,
  stringType,
} from './template-values.js';
import type { GoValue, Value } from './template-values.js';

const text = (value: Value) => value!.value as string;
const count = (value: Value) => Number(value!.value as bigint);

/** strings.Title: upper-cases (title-cases) the first letter of each word. */
function title(source: string): string {
  const isSeparator = (char: string) => {
    const code = char.codePointAt(0)!;
    if (code <= 0x7f) return !/[0-9A-Za-z_]/.test(char);
    if (/[\p{L}\p{Nd}]/u.test(char)) return false;
    return /\s/u.test(char);
  };
  let previous = ' ';
  let out = '';
  for (const char of source) {
    out += isSeparator(previous) ? simpleCase(char, 'upper') : char;
    previous = char;
  }
  return out;
}

/**
 * Go's per-rune (simple) case mapping. JS applies the full mapping, which can turn one rune into
 * several: then the rune stays as it is (ß), except İ, whose simple lower case is i.
 */
function simpleCase(char: string, to: 'upper' | 'lower'): string {
  if (to === 'lower' && char === '\u0130') return 'i';
  const mapped = to === 'upper' ? char.toUpperCase() : char.toLowerCase();
  return [...mapped].length === 1 ? mapped : char;
}

function mapRunes(source: string, to: 'upper' | 'lower'): string {
  let out = '';
  for (const char of source) out += simpleCase(char, to);
  return out;
}

/** strings.Split; an empty separator splits after each character. */
function split(source: string, separator: string): string[] {
  if (separator === '') return [...source];
  return source.split(separator);
}

/** joinElements: strings.Join for []string, fmt.Sprint of each element for other slices and maps. */
function join(elements: Value, separator: string): string {
  if (elements === undefined || elements.type.kind === 'interface') return '';
  const type = elements.type;
  if (type.kind === 'slice') {
    const items = (elements.value as GoValue[] | null) ?? [];
    if (type.elem.name === 'string') return items.map((item) => item.value as string).join(separator);
    return items.map((item) => sprint([item])).join(separator);
  }
  if (type.kind === 'map') {
    const entries = (elements.value as Map<string, GoValue> | null) ?? new Map<string, GoValue>();
    return sortedKeys(entries)
      .map((key) => sprint([entries.get(key)]))
      .sort(compareGoStrings)
      .join(separator);
  }
  throw new GoCallError(`expected slice, got ${type.name}`);
}

/** truncateWithLength: the first `length` bytes. */
function truncate(source: string, length: number): string {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length < length) return source;
  if (length < 0) throw new GoCallError(`runtime error: slice bounds out of range [:${length}]`);
  return bytes.subarray(0, length).toString('utf8');
}

/** padWithSpace: spaces around a non-empty string. */
function pad(source: string, prefix: number, suffix: number): string {
  if (source === '') return source;
  if (prefix < 0 || suffix < 0) throw new GoCallError('strings: negative Repeat count');
  return ' '.repeat(prefix) + source + ' '.repeat(suffix);
}

const fn = (params: GoFunc['params'], call: GoFunc['call']): GoFunc => ({ params, call });

/** templates.basicFunctions (docker 28+: join takes any slice or map). */
export const dockerFuncs: FuncMap = {
  json: fn([anyType], ([value]) => goString(marshalJson(value, false))),
  split: fn([stringType, stringType], ([source, separator]) => goStrings(split(text(source), text(separator)))),
  join: fn([anyType, stringType], ([elements, separator]) => goString(join(elements, text(separator)))),
  title: fn([stringType], ([source]) => goString(title(text(source)))),
  lower: fn([stringType], ([source]) => goString(mapRunes(text(source), 'lower'))),
  upper: fn([stringType], ([source]) => goString(mapRunes(text(source), 'upper'))),
  pad: fn([stringType, intType, intType], ([source, prefix, suffix]) => goString(pad(text(source), count(prefix), count(suffix)))),
  truncate: fn([stringType, intType], ([source, length]) => goString(truncate(text(source), count(length)))),
};

const identity = (params: GoFunc['params']): GoFunc => fn(params, ([value]) => value);

/** templates.HeaderFunctions: header cells keep the column's name (pad stays the real one). */
export const dockerHeaderFuncs: FuncMap = {
  json: identity([stringType]),
  split: identity([stringType, stringType]),
  join: identity([stringType, stringType]),
  title: identity([stringType]),
  lower: identity([stringType]),
  upper: identity([stringType]),
  truncate: identity([stringType, intType]),
};

/** templates.Parse: an anonymous template with docker's functions. Throws TemplateError. */
export function parseDockerTemplate(format: string): Template {
  return Template.parse(format, dockerFuncs, '');
}
