/**
 * Go's fmt for template values: Sprint, Sprintln, Sprintf and the %v a template prints with.
 *
 * Supported: verbs v (and %+v), s q x X d b o O c U t e E f F g G T and %%; flags + - # 0 space;
 * widths and precisions, `*` and explicit argument indexes `[n]`; Go's error forms (%!d(string=x),
 * %!v(MISSING), %!(EXTRA …), %!(NOVERB), %!(BADWIDTH), %!(BADPREC), %!v(BADINDEX)). Refused with an
 * UnsupportedError rather than printed differently: %p, %#v of anything but strings, booleans and
 * integers, %x/%X/%b on floats, pointers below the top level (Go prints an address).
 */
import {
  canBackquote,
  isPrintGo,
  quoteGo,
  sortedKeys,
  UnsupportedError,
} from './template-values.js';
import type { GoValue, StructType } from './template-values.js';

/** An argument as fmt receives it: a value, or undefined for a nil interface. */
export type FmtArg = GoValue | undefined;

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  widPresent: boolean;
  precPresent: boolean;
  wid: number;
  prec: number;
}

const freshFlags = (): Flags => ({
  plus: false,
  minus: false,
  sharp: false,
  space: false,
  zero: false,
  plusV: false,
  sharpV: false,
  widPresent: false,
  precPresent: false,
  wid: 0,
  prec: 0,
});

/** A nil interface as fmt sees it (a nil-interface GoValue is the same as no value at all). */
function asArg(value: FmtArg): FmtArg {
  if (value !== undefined && value.type.kind === 'interface' && value.value === null) return undefined;
  return value;
}

const runeCount = (text: string) => [...text].length;

class Printer {
  buf = '';
  f: Flags = freshFlags();
  /** The argument being printed (for %!verb(type=value)) and whether we are inside such a report. */
  private arg: FmtArg;
  private erroring = false;

  // ---- padding (fmt/format.go) ----

  private pad(text: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += text;
      return;
    }
    const width = this.f.wid - runeCount(text);
    if (width <= 0) {
      this.buf += text;
      return;
    }
    const padding = (this.f.zero && !this.f.minus ? '0' : ' ').repeat(width);
    this.buf += this.f.minus ? text + ' '.repeat(width) : padding + text;
  }

  private truncate(text: string): string {
    if (this.f.precPresent) {
      const runes = [...text];
      if (runes.length > this.f.prec) return runes.slice(0, this.f.prec).join('');
    }
    return text;
  }

  // ---- verbs on basic values ----

  private fmtBool(truth: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(truth ? 'true' : 'false');
    else this.badVerb(verb);
  }

  private fmtString(text: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(text);
        else this.pad(this.truncate(text));
        return;
      case 's':
        this.pad(this.truncate(text));
        return;
      case 'x':
      case 'X':
        this.fmtSx(Buffer.from(text, 'utf8'), verb === 'x' ? '0123456789abcdef' : '0123456789ABCDEF');
        return;
      case 'q':
        this.fmtQ(text);
        return;
      default:
        this.badVerb(verb);
    }
  }

  private fmtQ(text: string): void {
    const truncated = this.truncate(text);
    if (this.f.sharp && canBackquote(truncated)) this.pad(`\`${truncated}\``);
    else this.pad(quoteGo(truncated, this.f.plus));
  }

  private fmtSx(bytes: Buffer, digits: string): void {
    let length = bytes.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let out = '';
    for (let index = 0; index < length; index++) {
      if (this.f.space && index > 0) out += ' ';
      if (this.f.sharp && (this.f.space || index === 0)) out += digits === '0123456789abcdef' ? '0x' : '0X';
      const byte = bytes[index]!;
      out += digits[byte >> 4]! + digits[byte & 0xf]!;
    }
    this.pad(out);
  }

  private fmtInteger(value: bigint, signed: boolean, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV && !signed) this.integer(value, 16, signed, 'x', true);
        else this.integer(value, 10, signed, verb, false);
        return;
      case 'd':
        this.integer(value, 10, signed, verb, false);
        return;
      case 'b':
        this.integer(value, 2, signed, verb, false);
        return;
      case 'o':
      case 'O':
        this.integer(value, 8, signed, verb, false);
        return;
      case 'x':
      case 'X':
        this.integer(value, 16, signed, verb, false);
        return;
      case 'c':
        this.pad(this.truncate(String.fromCodePoint(validRune(value))));
        return;
      case 'q': {
        const rune = validRune(value);
        const char = String.fromCodePoint(rune);
        if (this.f.sharp && isPrintGo(char) && char !== "'") this.pad(`'${char}'`);
        else this.pad(quoteRune(char, this.f.plus));
        return;
      }
      case 'U': {
        let text = `U+${value.toString(16).toUpperCase().padStart(4, '0')}`;
        if (this.f.sharp && value >= 0n && value <= 0x10ffffn && isPrintGo(String.fromCodePoint(Number(value)))) {
          text += ` '${String.fromCodePoint(Number(value))}'`;
        }
        this.pad(text);
        return;
      }
      default:
        this.badVerb(verb);
    }
  }

  /** fmt.fmtInteger: sign, precision as minimum digits, zero padding, # prefixes. */
  private integer(value: bigint, base: number, signed: boolean, verb: string, forceHexPrefix: boolean): void {
    const negative = signed && value < 0n;
    const magnitude = negative ? -value : value;
    let digits = magnitude.toString(base);
    if (verb === 'X') digits = digits.toUpperCase();
    if (this.f.precPresent) {
      if (this.f.prec === 0 && magnitude === 0n) {
        this.pad('');
        return;
      }
      digits = digits.padStart(this.f.prec, '0');
    } else if (this.f.zero && !this.f.minus && this.f.widPresent) {
      const reserve = negative || this.f.plus || this.f.space ? 1 : 0;
      const prefixLength = this.f.sharp || forceHexPrefix ? (base === 16 || base === 2 ? 2 : base === 8 ? 1 : 0) : verb === 'O' ? 2 : 0;
      digits = digits.padStart(this.f.wid - reserve - prefixLength, '0');
    }
    let prefix = '';
    if (this.f.sharp || forceHexPrefix) {
      if (base === 2) prefix = '0b';
      else if (base === 8 && digits[0] !== '0') prefix = '0';
      else if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
    }
    if (verb === 'O') prefix = '0o';
    const sign = negative ? '-' : this.f.plus ? '+' : this.f.space ? ' ' : '';
    const zero = this.f.zero;
    this.f.zero = false; // the zeros are already in the digits
    this.pad(sign + prefix + digits);
    this.f.zero = zero;
  }

  private fmtFloat(value: number, verb: string): void {
    switch (verb) {
      case 'v':
        this.float(value, 'g', -1);
        return;
      case 'g':
      case 'G':
        this.float(value, verb, this.f.precPresent ? this.f.prec : -1);
        return;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
        this.float(value, verb, this.f.precPresent ? this.f.prec : 6);
        return;
      case 'b':
      case 'x':
      case 'X':
        throw new UnsupportedError(`the %${verb} verb on floats is not supported`);
      default:
        this.badVerb(verb);
    }
  }

  private float(value: number, verb: string, prec: number): void {
    let text = formatFloat(value, verb, prec);
    if (this.f.sharp && verb !== 'b' && !text.includes('.') && Number.isFinite(value)) {
      const exponent = text.search(/[eE]/);
      text = exponent < 0 ? `${text}.` : `${text.slice(0, exponent)}.${text.slice(exponent)}`;
    }
    if (this.f.plus && !text.startsWith('-') && !text.startsWith('+')) text = `+${text}`;
    else if (this.f.space && !text.startsWith('-')) text = ` ${text}`;
    if (!Number.isFinite(value)) {
      const zero = this.f.zero;
      this.f.zero = false;
      this.pad(text);
      this.f.zero = zero;
      return;
    }
    if (this.f.zero && !this.f.minus && this.f.widPresent && text.length < this.f.wid) {
      const sign = /^[+\- ]/.test(text) ? text[0]! : '';
      text = sign + text.slice(sign.length).padStart(this.f.wid - sign.length, '0');
    }
    this.pad(text);
  }

  // ---- arguments ----

  private badVerb(verb: string): void {
    this.erroring = true;
    this.buf += `%!${verb}(`;
    const arg = this.arg;
    if (arg !== undefined) {
      this.buf += `${arg.type.name}=`;
      const saved = this.f;
      this.f = freshFlags();
      this.printArg(arg, 'v');
      this.f = saved;
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  printArg(argument: FmtArg, verb: string): void {
    const arg = asArg(argument);
    this.arg = arg;
    if (arg === undefined) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb);
      return;
    }
    if (verb === 'T') {
      this.pad(arg.type.name);
      return;
    }
    if (verb === 'p') throw new UnsupportedError('the %p verb is not supported');
    this.printValue(arg, verb, 0);
  }

  /** fmt's handleMethods: a Stringer prints its String() for v s x X q. */
  private handleMethods(value: GoValue, verb: string): boolean {
    if (this.erroring || this.f.sharpV) return false;
    const stringer = value.type.methods?.String;
    if (!stringer || stringer.params.length > 0) return false;
    if (verb !== 'v' && verb !== 's' && verb !== 'x' && verb !== 'X' && verb !== 'q') return false;
    const result = stringer.call(value, []);
    this.fmtString(result?.value as string, verb);
    return true;
  }

  private printValue(value: GoValue, verb: string, depth: number): void {
    this.arg = value;
    if (this.handleMethods(value, verb)) return;
    const type = value.type;
    if (type.unprintable) throw new UnsupportedError(type.unprintable);
    switch (type.kind) {
      case 'bool':
        this.fmtBool(value.value as boolean, verb);
        return;
      case 'int':
        this.fmtInteger(value.value as bigint, true, verb);
        return;
      case 'uint':
        this.fmtInteger(value.value as bigint, false, verb);
        return;
      case 'float':
        this.fmtFloat(value.value as number, verb);
        return;
      case 'string':
        this.fmtString(value.value as string, verb);
        return;
      case 'interface':
        // Only a nil interface reaches here (non-nil ones are stored as what they hold).
        if (this.f.sharpV) throw new UnsupportedError('%#v of composite values is not supported');
        this.pad('<nil>');
        return;
      case 'map': {
        if (this.f.sharpV) throw new UnsupportedError('%#v of composite values is not supported');
        const entries = value.value as Map<string, GoValue> | null;
        this.buf += 'map[';
        if (entries) {
          sortedKeys(entries).forEach((key, index) => {
            if (index > 0) this.buf += ' ';
            this.printValue({ type: type.key, value: key }, verb, depth + 1);
            this.buf += ':';
            this.printValue(entries.get(key)!, verb, depth + 1);
          });
        }
        this.buf += ']';
        return;
      }
      case 'struct': {
        if (this.f.sharpV) throw new UnsupportedError('%#v of composite values is not supported');
        const fields = value.value as GoValue[];
        this.buf += '{';
        (type as StructType).fields.forEach((field, index) => {
          if (index > 0) this.buf += ' ';
          if (this.f.plusV) this.buf += `${field.name}:`;
          this.printValue(fields[index]!, verb, depth + 1);
        });
        this.buf += '}';
        return;
      }
      case 'slice': {
        if (this.f.sharpV) throw new UnsupportedError('%#v of composite values is not supported');
        const items = value.value as GoValue[] | null;
        if ((verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') && type.elem.kind === 'uint' && type.elem.bits === 8) {
          const bytes = Buffer.from((items ?? []).map((item) => Number(item.value)));
          if (verb === 'x' || verb === 'X') this.fmtSx(bytes, verb === 'x' ? '0123456789abcdef' : '0123456789ABCDEF');
          else this.fmtString(bytes.toString('utf8'), verb);
          return;
        }
        this.buf += '[';
        (items ?? []).forEach((item, index) => {
          if (index > 0) this.buf += ' ';
          this.printValue(item, verb, depth + 1);
        });
        this.buf += ']';
        return;
      }
      case 'pointer': {
        const target = value.value as GoValue | null;
        if (target === null) {
          if (verb === 'v') this.pad('<nil>');
          else this.badVerb(verb);
          return;
        }
        const kind = target.type.kind;
        if (depth === 0 && (kind === 'struct' || kind === 'map' || kind === 'slice')) {
          this.buf += '&';
          this.printValue(target, verb, depth + 1);
          return;
        }
        throw new UnsupportedError(`printing a pointer (${type.name}) inside a value is not supported: Go prints its address`);
      }
    }
  }

  // ---- Sprintf ----

  doPrintf(format: string, args: FmtArg[]): void {
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;
    const end = format.length;

    const argNumber = (at: number): number => {
      // An explicit argument index: [n].
      if (at >= end || format[at] !== '[') return at;
      reordered = true;
      const close = format.indexOf(']', at + 1);
      if (close < 0) {
        goodArgNum = false;
        return end;
      }
      const text = format.slice(at + 1, close);
      const index = /^\d+$/.test(text) ? Number(text) - 1 : -1;
      if (index >= 0 && index < args.length) {
        argNum = index;
        afterIndex = true;
      } else {
        goodArgNum = false;
      }
      return close + 1;
    };
    const parseNumber = (at: number): [number, boolean, number] => {
      let i = at;
      while (i < end && format[i]! >= '0' && format[i]! <= '9') i++;
      if (i === at) return [0, false, at];
      const n = Number(format.slice(at, i));
      if (n > 1e6) return [0, false, end]; // Go rejects absurd widths as bad
      return [n, true, i];
    };
    const intFromArg = (): [number, boolean] => {
      const arg = asArg(args[argNum]);
      let result: [number, boolean] = [0, false];
      if (argNum < args.length) {
        if (arg !== undefined && (arg.type.kind === 'int' || arg.type.kind === 'uint')) {
          const n = Number(arg.value as bigint);
          if (Math.abs(n) <= 1e6) result = [n, true];
        }
        argNum++;
      }
      return result;
    };

    let i = 0;
    while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // the %
      this.f = freshFlags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case '#':
            this.f.sharp = true;
            break;
          case '0':
            this.f.zero = !this.f.minus;
            break;
          case '+':
            this.f.plus = true;
            break;
          case '-':
            this.f.minus = true;
            this.f.zero = false;
            break;
          case ' ':
            this.f.space = true;
            break;
          default:
            break flags;
        }
      }
      afterIndex = false;
      i = argNumber(i);
      if (i < end && format[i] === '*') {
        i++;
        [this.f.wid, this.f.widPresent] = intFromArg();
        if (!this.f.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.f.wid < 0) {
          this.f.wid = -this.f.wid;
          this.f.minus = true;
          this.f.zero = false;
        }
        afterIndex = false;
      } else {
        [this.f.wid, this.f.widPresent, i] = parseNumber(i);
        if (afterIndex && this.f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        afterIndex = false;
        i = argNumber(i);
        if (i < end && format[i] === '*') {
          i++;
          [this.f.prec, this.f.precPresent] = intFromArg();
          if (this.f.prec < 0) {
            this.f.prec = 0;
            this.f.precPresent = false;
          }
          if (!this.f.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.f.prec, this.f.precPresent, i] = parseNumber(i);
          if (!this.f.precPresent) {
            this.f.prec = 0;
            this.f.precPresent = true;
          }
        }
      }
      if (!afterIndex) i = argNumber(i);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;
      if (verb === '%') {
        this.buf += '%';
      } else if (!goodArgNum) {
        this.buf += `%!${verb}(BADINDEX)`;
      } else if (argNum >= args.length) {
        this.buf += `%!${verb}(MISSING)`;
      } else {
        if (verb === 'v') {
          this.f.sharpV = this.f.sharp;
          this.f.sharp = false;
          this.f.plusV = this.f.plus;
          this.f.plus = false;
        }
        if (this.f.sharpV) {
          // Go syntax is reproduced for strings, booleans and integers only.
          const kind = asArg(args[argNum])?.type.kind;
          if (kind !== 'string' && kind !== 'bool' && kind !== 'int' && kind !== 'uint') {
            throw new UnsupportedError(`%#v of ${kind === 'float' ? 'floats' : 'composite values'} is not supported`);
          }
        }
        this.printArg(args[argNum], verb);
        argNum++;
      }
    }
    if (!reordered && argNum < args.length) {
      this.f = freshFlags();
      this.buf += '%!(EXTRA ';
      args.slice(argNum).forEach((argument, index) => {
        if (index > 0) this.buf += ', ';
        const arg = asArg(argument);
        if (arg === undefined) this.buf += '<nil>';
        else {
          this.buf += `${arg.type.name}=`;
          this.printArg(arg, 'v');
        }
      });
      this.buf += ')';
    }
  }
}

function validRune(value: bigint): number {
  if (value < 0n || value > 0x10ffffn || (value >= 0xd800n && value <= 0xdfffn)) return 0xfffd;
  return Number(value);
}

/** strconv.QuoteRune. */
function quoteRune(char: string, asciiOnly: boolean): string {
  if (char === "'") return "'\\''";
  if (char === '"') return `'"'`;
  const quoted = quoteGo(char, asciiOnly);
  return `'${quoted.slice(1, -1)}'`;
}

/** The exact decimal expansion of a finite non-negative double: its digits and the exponent of the first. */
function exactDecimal(abs: number): { digits: string; exponent: number } {
  if (abs === 0) return { digits: '0', exponent: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, abs);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let power = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    power = biased - 1075;
  }
  // abs = mantissa × 2^power = integer × 10^-shift, exactly.
  const integer = power >= 0 ? mantissa << BigInt(power) : mantissa * 5n ** BigInt(-power);
  const shift = power >= 0 ? 0 : -power;
  const text = integer.toString();
  return { digits: text.replace(/0+$/, '') || '0', exponent: text.length - 1 - shift };
}

/** Rounds decimal digits to `keep` significant digits, ties to even (strconv's rounding of the exact value). */
function roundDigits(digits: string, exponent: number, keep: number): { digits: string; exponent: number } {
  if (keep < 0) return { digits: '0', exponent: exponent + 1 };
  if (digits.length <= keep) return { digits, exponent };
  const next = digits.charCodeAt(keep) - 48;
  const rest = digits.slice(keep + 1);
  const previousOdd = keep > 0 && (digits.charCodeAt(keep - 1) - 48) % 2 === 1;
  const up = next > 5 || (next === 5 && (/[1-9]/.test(rest) || previousOdd));
  let kept = digits.slice(0, keep);
  if (!up) return { digits: kept.replace(/0+$/, '') || '0', exponent: kept === '' ? exponent + 1 : exponent };
  if (kept === '') return { digits: '1', exponent: exponent + 1 };
  const carried = (BigInt(kept) + 1n).toString();
  if (carried.length > kept.length) return { digits: carried.slice(0, keep).replace(/0+$/, '') || '1', exponent: exponent + 1 };
  kept = carried.padStart(kept.length, '0');
  return { digits: kept.replace(/0+$/, '') || '0', exponent };
}

/**
 * strconv.FormatFloat for the e, E, f, F, g, G formats; prec -1 means the shortest representation
 * that reads back as the same float (JS and Go agree on those digits). With a precision, the exact
 * binary value is rounded half to even, as strconv does (%.1f of 2.25 is 2.2).
 */
export function formatFloat(value: number, verb: string, prec: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const negative = value < 0 || Object.is(value, -0);
  const abs = Math.abs(value);
  const sign = negative ? '-' : '';
  const upper = verb === 'E' || verb === 'G';
  const expForm = (digits: string, exponent: number, fractionDigits: number): string => {
    let mantissa = digits[0]!;
    const rest = digits.slice(1).padEnd(fractionDigits, '0').slice(0, fractionDigits);
    if (fractionDigits > 0) mantissa += `.${rest}`;
    const expSign = exponent < 0 ? '-' : '+';
    const expDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${mantissa}${upper ? 'E' : 'e'}${expSign}${expDigits}`;
  };
  /** Significant digits (trailing zeros dropped) and the exponent of the first, shortest or rounded. */
  const decompose = (significant: number | undefined): { digits: string; exponent: number } => {
    if (abs === 0) return { digits: '0', exponent: 0 };
    if (significant === undefined) {
      const [mantissa, exp] = abs.toExponential().split('e') as [string, string];
      return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exponent: Number(exp) };
    }
    const exact = exactDecimal(abs);
    return roundDigits(exact.digits, exact.exponent, significant);
  };
  switch (verb) {
    case 'e':
    case 'E': {
      const { digits, exponent } = decompose(prec < 0 ? undefined : prec + 1);
      return expForm(digits, exponent, prec < 0 ? digits.length - 1 : prec);
    }
    case 'f':
    case 'F': {
      if (prec < 0) {
        const { digits, exponent } = decompose(undefined);
        return sign + fixedFromDigits(digits, exponent, Math.max(digits.length - exponent - 1, 0));
      }
      const exact = exactDecimal(abs);
      const { digits, exponent } = abs === 0 ? exact : roundDigits(exact.digits, exact.exponent, exact.exponent + 1 + prec);
      return sign + fixedFromDigits(digits, exponent, prec);
    }
    default: {
      // g, G (and v, shortest): strconv's rule, %e when the exponent is < -4 or >= the precision,
      // where a shortest conversion decides with precision 6.
      const shortest = prec < 0;
      let precision = !shortest && prec === 0 ? 1 : prec;
      const { digits, exponent } = decompose(shortest ? undefined : precision);
      const nd = digits.length;
      const dp = exponent + 1;
      if (shortest) precision = nd;
      let eprec = precision;
      if (eprec > nd && nd >= dp) eprec = nd;
      if (shortest) eprec = 6;
      if (exponent < -4 || exponent >= eprec) return expForm(digits, exponent, Math.min(precision, nd) - 1);
      if (precision > dp) precision = nd;
      return sign + fixedFromDigits(digits, exponent, Math.max(precision - dp, 0));
    }
  }
}

/** Fixed notation from significant digits d1d2… with the first digit at 10^exponent. */
function fixedFromDigits(digits: string, exponent: number, fractionDigits: number): string {
  let integer: string;
  let fraction: string;
  if (exponent >= 0) {
    integer = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    fraction = digits.slice(exponent + 1);
  } else {
    integer = '0';
    fraction = '0'.repeat(-exponent - 1) + digits;
  }
  fraction = fraction.padEnd(fractionDigits, '0').slice(0, fractionDigits);
  return fraction.length > 0 ? `${integer}.${fraction}` : integer;
}

/** fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: FmtArg[]): string {
  const printer = new Printer();
  let previousString = false;
  args.forEach((argument, index) => {
    const arg = asArg(argument);
    const isString = arg !== undefined && arg.type.kind === 'string';
    if (index > 0 && !isString && !previousString) printer.buf += ' ';
    printer.f = freshFlags();
    printer.printArg(arg, 'v');
    previousString = isString;
  });
  return printer.buf;
}

/** fmt.Sprintln: operands printed with %v, always separated by spaces, and a newline. */
export function sprintln(args: FmtArg[]): string {
  const printer = new Printer();
  args.forEach((arg, index) => {
    if (index > 0) printer.buf += ' ';
    printer.f = freshFlags();
    printer.printArg(arg, 'v');
  });
  return `${printer.buf}\n`;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: FmtArg[]): string {
  const printer = new Printer();
  printer.doPrintf(format, args);
  return printer.buf;
}

/** A value as `{{.}}` prints it (fmt.Fprint of one operand). */
export function formatValue(value: FmtArg): string {
  return sprint([value]);
}

/** Formats a value for an error message (%v); never throws. */
export function describeValue(value: FmtArg): string {
  try {
    return formatValue(value);
  } catch {
    return value ? `<${value.type.name}>` : '<nil>';
  }
}
