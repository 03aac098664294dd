/**
 * The lexer of Go's text/template (text/template/parse/lex.go, Go 1.22–1.24): text and actions,
 * trim markers, comments, newlines inside actions, Go literals. Errors are items whose text is
 * Go's message ("unclosed action", "bad character U+007D '}'").
 */
import { quoteGo } from './template-values.js';

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'comment'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'EOF'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

const keywords: ReadonlyMap<string, ItemType> = new Map<string, ItemType>([
  ['.', 'dot'],
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);
const keywordTypes = new Set<ItemType>(keywords.values());

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

const EOF = '';
const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const TRIM_MARKER_LENGTH = 2; // the '-' and the space next to it

const isSpace = (char: string) => char === ' ' || char === '\t' || char === '\r' || char === '\n';
const isAlphaNumeric = (char: string) => char === '_' || /^[\p{L}\p{Nd}]$/u.test(char);
const hasLeftTrimMarker = (text: string) => text.length >= 2 && text[0] === '-' && isSpace(text[1]!);
const hasRightTrimMarker = (text: string) => text.length >= 2 && isSpace(text[0]!) && text[1] === '-';
export const countNewlines = (text: string) => text.split('\n').length - 1;

/** Go's %#U: `U+0041 'A'`. */
function unicodeLabel(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const label = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char) ? `${label} '${char}'` : label;
}

type StateFn = ((lexer: Lexer) => StateFn) | null;

export class Lexer {
  pos = 0;
  start = 0;
  private atEOF = false;
  parenDepth = 0;
  line = 1;
  startLine = 1;
  insideAction = false;
  item: Item | undefined;

  constructor(public input: string) {}

  next(): string {
    if (this.pos >= this.input.length) {
      this.atEOF = true;
      return EOF;
    }
    const char = String.fromCodePoint(this.input.codePointAt(this.pos)!);
    this.pos += char.length;
    if (char === '\n') this.line++;
    return char;
  }

  peek(): string {
    const char = this.next();
    this.backup();
    return char;
  }

  backup(): void {
    if (this.atEOF || this.pos <= 0) return;
    const low = this.input.charCodeAt(this.pos - 1);
    const width = low >= 0xdc00 && low <= 0xdfff && this.pos >= 2 ? 2 : 1;
    this.pos -= width;
    if (this.input[this.pos] === '\n') this.line--;
  }

  thisItem(typ: ItemType): Item {
    const item = { typ, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine };
    this.start = this.pos;
    this.startLine = this.line;
    return item;
  }

  emit(typ: ItemType): StateFn {
    this.item = this.thisItem(typ);
    return null;
  }

  emitItem(item: Item): StateFn {
    this.item = item;
    return null;
  }

  ignore(): void {
    this.line += countNewlines(this.input.slice(this.start, this.pos));
    this.start = this.pos;
    this.startLine = this.line;
  }

  accept(valid: string): boolean {
    const char = this.next();
    if (char !== EOF && valid.includes(char)) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const char = this.next();
      if (char === EOF || !valid.includes(char)) break;
    }
    this.backup();
  }

  errorf(message: string): StateFn {
    this.item = { typ: 'error', pos: this.start, val: message, line: this.startLine };
    this.start = 0;
    this.pos = 0;
    this.input = '';
    return null;
  }

  nextItem(): Item {
    this.item = { typ: 'EOF', pos: this.pos, val: 'EOF', line: this.startLine };
    let state: StateFn = this.insideAction ? lexInsideAction : lexText;
    while (state) state = state(this);
    return this.item;
  }

  atRightDelim(): { delim: boolean; trimSpaces: boolean } {
    const rest = this.input.slice(this.pos);
    if (hasRightTrimMarker(rest) && rest.slice(TRIM_MARKER_LENGTH).startsWith(RIGHT_DELIM)) return { delim: true, trimSpaces: true };
    if (rest.startsWith(RIGHT_DELIM)) return { delim: true, trimSpaces: false };
    return { delim: false, trimSpaces: false };
  }

  atTerminator(): boolean {
    const char = this.peek();
    if (isSpace(char)) return true;
    if (char === EOF || '.,|:)('.includes(char)) return true;
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }
}

function lexText(l: Lexer): StateFn {
  const x = l.input.indexOf(LEFT_DELIM, l.pos);
  if (x >= 0) {
    if (x > l.pos) {
      l.pos = x;
      let trimLength = 0;
      if (hasLeftTrimMarker(l.input.slice(l.pos + LEFT_DELIM.length))) {
        const text = l.input.slice(l.start, l.pos);
        trimLength = text.length - text.replace(/[ \t\r\n]+$/, '').length;
      }
      l.pos -= trimLength;
      l.line += countNewlines(l.input.slice(l.start, l.pos));
      const item = l.thisItem('text');
      l.pos += trimLength;
      l.ignore();
      if (item.val.length > 0) return l.emitItem(item);
    }
    return lexLeftDelim;
  }
  l.pos = l.input.length;
  if (l.pos > l.start) {
    l.line += countNewlines(l.input.slice(l.start, l.pos));
    return l.emit('text');
  }
  return l.emit('EOF');
}

function lexLeftDelim(l: Lexer): StateFn {
  l.pos += LEFT_DELIM.length;
  const trimSpace = hasLeftTrimMarker(l.input.slice(l.pos));
  const afterMarker = trimSpace ? TRIM_MARKER_LENGTH : 0;
  if (l.input.startsWith(LEFT_COMMENT, l.pos + afterMarker)) {
    l.pos += afterMarker;
    l.ignore();
    return lexComment;
  }
  const item = l.thisItem('leftDelim');
  l.insideAction = true;
  l.pos += afterMarker;
  l.ignore();
  l.parenDepth = 0;
  return l.emitItem(item);
}

function lexComment(l: Lexer): StateFn {
  l.pos += LEFT_COMMENT.length;
  const x = l.input.indexOf(RIGHT_COMMENT, l.pos);
  if (x < 0) return l.errorf('unclosed comment');
  l.pos = x + RIGHT_COMMENT.length;
  const { delim, trimSpaces } = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  l.line += countNewlines(l.input.slice(l.start, l.pos));
  l.thisItem('comment');
  if (trimSpaces) l.pos += TRIM_MARKER_LENGTH;
  l.pos += RIGHT_DELIM.length;
  if (trimSpaces) l.pos += leftSpaceLength(l.input.slice(l.pos));
  l.ignore();
  return lexText;
}

function leftSpaceLength(text: string): number {
  return text.length - text.replace(/^[ \t\r\n]+/, '').length;
}

function lexRightDelim(l: Lexer): StateFn {
  const { trimSpaces } = l.atRightDelim();
  if (trimSpaces) {
    l.pos += TRIM_MARKER_LENGTH;
    l.ignore();
  }
  l.pos += RIGHT_DELIM.length;
  const item = l.thisItem('rightDelim');
  if (trimSpaces) {
    l.pos += leftSpaceLength(l.input.slice(l.pos));
    l.ignore();
  }
  l.insideAction = false;
  return l.emitItem(item);
}

function lexInsideAction(l: Lexer): StateFn {
  if (l.atRightDelim().delim) {
    if (l.parenDepth === 0) return lexRightDelim;
    return l.errorf('unclosed left paren');
  }
  const char = l.next();
  if (char === EOF) return l.errorf('unclosed action');
  if (isSpace(char)) {
    l.backup(); // put the space back in case we have " -}}"
    return lexSpace;
  }
  switch (char) {
    case '=':
      return l.emit('assign');
    case ':':
      if (l.next() !== '=') return l.errorf('expected :=');
      return l.emit('declare');
    case '|':
      return l.emit('pipe');
    case '"':
      return lexQuote;
    case '`':
      return lexRawQuote;
    case '$':
      return lexVariable;
    case "'":
      return lexChar;
    case '(':
      l.parenDepth++;
      return l.emit('leftParen');
    case ')':
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf('unexpected right paren');
      return l.emit('rightParen');
  }
  if (char === '.') {
    const following = l.input[l.pos];
    if (following !== undefined && (following < '0' || following > '9')) return lexField;
  }
  if (char === '.' || char === '+' || char === '-' || (char >= '0' && char <= '9')) {
    l.backup();
    return lexNumber;
  }
  if (isAlphaNumeric(char)) {
    l.backup();
    return lexIdentifier;
  }
  const code = char.codePointAt(0)!;
  if (code <= 0x7f && code >= 0x20 && code !== 0x7f) return l.emit('char');
  return l.errorf(`unrecognized character in action: ${unicodeLabel(char)}`);
}

function lexSpace(l: Lexer): StateFn {
  let spaces = 0;
  while (isSpace(l.peek())) {
    l.next();
    spaces++;
  }
  const rest = l.input.slice(l.pos - 1);
  if (hasRightTrimMarker(rest) && rest.slice(TRIM_MARKER_LENGTH).startsWith(RIGHT_DELIM)) {
    l.backup(); // before the space
    if (spaces === 1) return lexRightDelim;
  }
  return l.emit('space');
}

function lexIdentifier(l: Lexer): StateFn {
  for (;;) {
    const char = l.next();
    if (char !== EOF && isAlphaNumeric(char)) continue;
    l.backup();
    const word = l.input.slice(l.start, l.pos);
    if (!l.atTerminator()) return l.errorf(`bad character ${unicodeLabel(char)}`);
    const keyword = keywords.get(word);
    if (keyword && keyword !== 'dot') return l.emit(keyword);
    if (word.startsWith('.')) return l.emit('field');
    if (word === 'true' || word === 'false') return l.emit('bool');
    return l.emit('identifier');
  }
}

function lexField(l: Lexer): StateFn {
  return lexFieldOrVariable(l, 'field');
}

function lexVariable(l: Lexer): StateFn {
  if (l.atTerminator()) return l.emit('variable');
  return lexFieldOrVariable(l, 'variable');
}

function lexFieldOrVariable(l: Lexer, typ: 'field' | 'variable'): StateFn {
  if (l.atTerminator()) return l.emit(typ === 'variable' ? 'variable' : 'dot');
  let char: string;
  for (;;) {
    char = l.next();
    if (char === EOF || !isAlphaNumeric(char)) {
      l.backup();
      break;
    }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${unicodeLabel(char)}`);
  return l.emit(typ);
}

function lexChar(l: Lexer): StateFn {
  for (;;) {
    let char = l.next();
    if (char === '\\') {
      char = l.next();
      if (char !== EOF && char !== '\n') continue;
    }
    if (char === EOF || char === '\n') return l.errorf('unterminated character constant');
    if (char === "'") break;
  }
  return l.emit('charConstant');
}

function lexNumber(l: Lexer): StateFn {
  if (!l.scanNumber()) return l.errorf(`bad number syntax: ${quoteGo(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === '+' || sign === '-') {
    if (!l.scanNumber() || l.input[l.pos - 1] !== 'i') return l.errorf(`bad number syntax: ${quoteGo(l.input.slice(l.start, l.pos))}`);
    return l.emit('complex');
  }
  return l.emit('number');
}

function lexQuote(l: Lexer): StateFn {
  for (;;) {
    let char = l.next();
    if (char === '\\') {
      char = l.next();
      if (char !== EOF && char !== '\n') continue;
    }
    if (char === EOF || char === '\n') return l.errorf('unterminated quoted string');
    if (char === '"') break;
  }
  return l.emit('string');
}

function lexRawQuote(l: Lexer): StateFn {
  for (;;) {
    const char = l.next();
    if (char === EOF) return l.errorf('unterminated raw quoted string');
    if (char === '`') break;
  }
  return l.emit('rawString');
}

/** An item as the parser names it in "unexpected X in Y". */
export function itemString(item: Item): string {
  if (item.typ === 'EOF') return 'EOF';
  if (item.typ === 'error') return item.val;
  if (keywordTypes.has(item.typ)) return `<${item.val}>`;
  if (Buffer.byteLength(item.val, 'utf8') > 10) return `${quoteGo([...item.val].slice(0, 10).join(''))}...`;
  return quoteGo(item.val);
}
