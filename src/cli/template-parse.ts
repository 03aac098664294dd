/**
 * Parse trees of Go's text/template (text/template/parse/node.go and parse.go): the node types, the
 * text Go prints for a node in error messages, and the parser with Go's error wording.
 */
import { Lexer, itemString } from './template-lex.js';
import type { Item, ItemType } from './template-lex.js';
import { quoteGo, TemplateError, UnsupportedError } from './template-values.js';
import type { FuncMap } from './template-values.js';

export interface NodeBase {
  pos: number;
}
export interface TextNode extends NodeBase { type: 'text'; text: string }
export interface ListNode extends NodeBase { type: 'list'; nodes: Node[] }
export interface ActionNode extends NodeBase { type: 'action'; pipe: PipeNode }
export interface BranchNode extends NodeBase { type: 'if' | 'range' | 'with'; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined }
export interface LoopControlNode extends NodeBase { type: 'break' | 'continue' }
export interface CommentNode extends NodeBase { type: 'comment' }
export interface PipeNode extends NodeBase { type: 'pipe'; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode extends NodeBase { type: 'command'; args: ArgNode[] }
export interface FieldNode extends NodeBase { type: 'field'; ident: string[] }
export interface VariableNode extends NodeBase { type: 'variable'; ident: string[] }
export interface ChainNode extends NodeBase { type: 'chain'; node: ArgNode; field: string[] }
export interface IdentifierNode extends NodeBase { type: 'identifier'; ident: string }
export interface DotNode extends NodeBase { type: 'dot' }
export interface NilNode extends NodeBase { type: 'nil' }
export interface BoolNode extends NodeBase { type: 'bool'; value: boolean }
export interface StringNode extends NodeBase { type: 'string'; quoted: string; text: string }
export interface NumberNode extends NodeBase {
  type: 'number';
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int64: bigint;
  uint64: bigint;
  float64: number;
}
export interface EndNode extends NodeBase { type: 'end' }
export interface ElseNode extends NodeBase { type: 'else' }

export type ArgNode = FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | StringNode | NumberNode | PipeNode;
export type Node = TextNode | ListNode | ActionNode | BranchNode | LoopControlNode | CommentNode;
export type AnyNode = Node | ArgNode | CommandNode | EndNode | ElseNode;

/** A node as Go's String() writes it (used in "executing … at <…>"). */
export function nodeString(node: AnyNode): string {
  switch (node.type) {
    case 'text':
      return node.text;
    case 'list':
      return node.nodes.map(nodeString).join('');
    case 'action':
      return `{{${nodeString(node.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return `{{${node.type} ${nodeString(node.pipe)}}}${nodeString(node.list)}${node.elseList ? `{{else}}${nodeString(node.elseList)}` : ''}{{end}}`;
    case 'break':
    case 'continue':
      return `{{${node.type}}}`;
    case 'comment':
      return '{{/* */}}';
    case 'pipe': {
      const decl = node.decl.length > 0 ? `${node.decl.map(nodeString).join(', ')} := ` : '';
      return decl + node.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return node.args.map((arg) => (arg.type === 'pipe' ? `(${nodeString(arg)})` : nodeString(arg))).join(' ');
    case 'field':
      return node.ident.map((ident) => `.${ident}`).join('');
    case 'variable':
      return node.ident.join('.');
    case 'chain':
      return (node.node.type === 'pipe' ? `(${nodeString(node.node)})` : nodeString(node.node)) + node.field.map((field) => `.${field}`).join('');
    case 'identifier':
      return node.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'string':
      return node.quoted;
    case 'number':
      return node.text;
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
  }
}

/** Go's strconv.Unquote for "…" and `…` literals. */
function unquote(quoted: string): string | undefined {
  if (quoted.startsWith('`')) return quoted.endsWith('`') && quoted.length >= 2 ? quoted.slice(1, -1).replace(/\r/g, '') : undefined;
  if (!quoted.startsWith('"') || !quoted.endsWith('"') || quoted.length < 2) return undefined;
  let out = '';
  const body = quoted.slice(1, -1);
  for (let index = 0; index < body.length; ) {
    const char = body[index]!;
    if (char === '"' || char === '\n') return undefined;
    if (char !== '\\') {
      out += char;
      index++;
      continue;
    }
    const decoded = unquoteEscape(body, index + 1, '"');
    if (!decoded) return undefined;
    out += decoded.text;
    index = decoded.next;
  }
  return out;
}

/** One escape sequence after a backslash: \a \b \f \n \r \t \v \\ \' \" \ooo \xhh \uhhhh \Uhhhhhhhh. */
function unquoteEscape(body: string, at: number, quote: string): { text: string; next: number } | undefined {
  const char = body[at];
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  if (char === undefined) return undefined;
  if (simple[char] !== undefined) return { text: simple[char]!, next: at + 1 };
  if (char === quote) return { text: quote, next: at + 1 };
  const hex = (length: number) => {
    const digits = body.slice(at + 1, at + 1 + length);
    if (digits.length !== length || !/^[0-9a-fA-F]+$/.test(digits)) return undefined;
    return parseInt(digits, 16);
  };
  if (char === 'x') {
    const byte = hex(2);
    // A \x escape is one byte; bytes above 0x7f cannot be kept apart from UTF-8 in a JS string.
    return byte === undefined ? undefined : { text: String.fromCharCode(byte), next: at + 3 };
  }
  if (char === 'u' || char === 'U') {
    const length = char === 'u' ? 4 : 8;
    const code = hex(length);
    if (code === undefined || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    return { text: String.fromCodePoint(code), next: at + 1 + length };
  }
  if (char >= '0' && char <= '7') {
    const digits = body.slice(at, at + 3);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const value = parseInt(digits, 8);
    return value > 255 ? undefined : { text: String.fromCharCode(value), next: at + 3 };
  }
  return undefined;
}

/** strconv.ParseInt/ParseUint with base 0 (prefixes 0x 0o 0b 0, underscores between digits). */
function parseGoInteger(text: string): bigint | undefined {
  const match = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=[0-9_]))?(.+)$/.exec(text);
  if (!match) return text === '0' || text === '+0' || text === '-0' ? 0n : undefined;
  const [, sign, prefix, rawDigits] = match as unknown as [string, string, string | undefined, string];
  const base = !prefix ? 10 : /[xX]/.test(prefix) ? 16 : /[bB]/.test(prefix) ? 2 : 8;
  let digits = rawDigits;
  if (digits.includes('_')) {
    // Go's underscoreOK: each underscore sits between digits, or right after a base prefix.
    const body = prefix && prefix !== '0' ? `0${digits}` : (prefix ?? '') + digits;
    if (/__|_$|^_/.test(body)) return undefined;
    digits = digits.replace(/_/g, '');
  }
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base]!;
  if (!valid.test(digits)) return undefined;
  const magnitude = BigInt(base === 10 ? digits : `0${base === 16 ? 'x' : base === 8 ? 'o' : 'b'}${digits}`);
  return sign === '-' ? -magnitude : magnitude;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

function newNumber(pos: number, text: string, typ: ItemType): NumberNode {
  const node: NumberNode = { type: 'number', pos, text, isInt: false, isUint: false, isFloat: false, int64: 0n, uint64: 0n, float64: 0 };
  if (typ === 'charConstant') {
    const body = text.slice(1, -1);
    let rune: number | undefined;
    if (body.startsWith('\\')) {
      const decoded = unquoteEscape(body, 1, "'");
      if (decoded && decoded.next === body.length) rune = decoded.text.codePointAt(0);
    } else if ([...body].length === 1) {
      rune = body.codePointAt(0);
    }
    if (rune === undefined) throw new Error(body === '' || [...body].length > 1 ? `malformed character constant: ${text}` : 'invalid syntax');
    return { ...node, isInt: true, isUint: true, isFloat: true, int64: BigInt(rune), uint64: BigInt(rune), float64: rune };
  }
  if (typ === 'complex' || text.endsWith('i')) throw new UnsupportedError('complex number literals are not supported');
  const integer = parseGoInteger(text);
  if (integer !== undefined) {
    if (integer >= 0n && integer <= UINT64_MAX) {
      node.isUint = true;
      node.uint64 = integer;
    }
    if (integer >= INT64_MIN && integer <= INT64_MAX) {
      node.isInt = true;
      node.int64 = integer;
    }
  }
  if (node.isInt) {
    node.isFloat = true;
    node.float64 = Number(node.int64);
  } else if (node.isUint) {
    node.isFloat = true;
    node.float64 = Number(node.uint64);
  } else {
    const decimal = /^[+-]?(\d[\d_]*)?(\.[\d_]*)?([eE][+-]?\d[\d_]*)?$/.test(text) && /\d/.test(text);
    if (decimal) {
      const float = Number(text.replace(/_/g, ''));
      if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${quoteGo(text)}`);
      node.isFloat = true;
      node.float64 = float;
      if (Number.isInteger(float) && float >= -(2 ** 63) && float < 2 ** 63) {
        node.isInt = true;
        node.int64 = BigInt(float);
      }
      if (Number.isInteger(float) && float >= 0 && float < 2 ** 64) {
        node.isUint = true;
        node.uint64 = BigInt(float);
      }
    } else if (/^[+-]?0[xX]/.test(text) && /[pP]/.test(text)) {
      throw new UnsupportedError('hexadecimal floating-point literals are not supported');
    }
  }
  if (!node.isInt && !node.isUint && !node.isFloat) throw new Error(`illegal number syntax: ${quoteGo(text)}`);
  return node;
}

class Parser {
  private lexer: Lexer;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;

  constructor(
    private readonly name: string,
    text: string,
    private readonly funcs: FuncMap,
  ) {
    this.lexer = new Lexer(text);
  }

  private errorf(message: string): never {
    throw new TemplateError(`template: ${this.name}:${this.token[0]?.line ?? 1}: ${message}`);
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lexer.nextItem();
    return this.token[this.peekCount]!;
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.lexer.nextItem();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === 'space');
    return token;
  }

  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  private expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${token.val}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== 'EOF') {
      if (this.peek().typ === 'leftDelim') {
        const delim = this.next();
        if (this.nextNonSpace().typ === 'define') this.refuse('{{define}}');
        this.backup2(delim);
      }
      const node = this.textOrAction();
      if (node.type === 'end' || node.type === 'else') this.errorf(`unexpected ${nodeString(node)}`);
      if (node.type !== 'comment') root.nodes.push(node);
    }
    return root;
  }

  private refuse(what: string): never {
    this.errorf(`${what} is not supported by yard`);
  }

  private itemList(): { list: ListNode; next: EndNode | ElseNode } {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== 'EOF') {
      const node = this.textOrAction();
      if (node.type === 'end' || node.type === 'else') return { list, next: node };
      if (node.type !== 'comment') list.nodes.push(node);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | EndNode | ElseNode {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case 'text':
        return { type: 'text', pos: token.pos, text: token.val };
      case 'leftDelim':
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      case 'comment':
        return { type: 'comment', pos: token.pos };
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Node | EndNode | ElseNode {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case 'block':
        this.refuse('{{block}}');
      // falls through (refuse throws)
      case 'template':
        this.refuse('{{template}}');
      // falls through (refuse throws)
      case 'break':
      case 'continue': {
        const closing = this.nextNonSpace();
        if (closing.typ !== 'rightDelim') this.unexpected(closing, `{{${token.typ}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${token.typ}}} outside {{range}}`);
        return { type: token.typ, pos: token.pos };
      }
      case 'else':
        return this.elseControl();
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.control(token.typ);
    }
    this.backup();
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private elseControl(): ElseNode {
    const peek = this.peekNonSpace();
    // "{{else if …" and "{{else with …" are "{{else}}{{if …": leave the keyword for the caller.
    if (peek.typ === 'if' || peek.typ === 'with') return { type: 'else', pos: peek.pos };
    const token = this.expect('rightDelim', 'else');
    return { type: 'else', pos: token.pos };
  }

  private control(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const body = this.itemList();
      const list = body.list;
      let next = body.next;
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        if (context === 'if' && this.peek().typ === 'if') {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control('if')] };
        } else if (context === 'with' && this.peek().typ === 'with') {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control('with')] };
        } else {
          ({ list: elseList, next } = this.itemList());
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const variable = this.peekNonSpace();
      if (variable.typ !== 'variable') break;
      this.next();
      const tokenAfterVariable = this.peek();
      const following = this.peekNonSpace();
      if (following.typ === 'assign' || following.typ === 'declare') {
        pipe.isAssign = following.typ === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: variable.pos, ident: variable.val.split('.') });
        this.vars.push(variable.val);
      } else if (following.typ === 'char' && following.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: variable.pos, ident: variable.val.split('.') });
        this.vars.push(variable.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const after = this.peekNonSpace().typ;
          if (after === 'variable' || after === 'rightDelim' || after === 'rightParen') continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === 'space') {
        this.backup3(variable, tokenAfterVariable);
      } else {
        this.backup2(variable);
      }
      break;
    }
    for (;;) {
      const next = this.nextNonSpace();
      if (next.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (next.typ) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(next, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((command, index) => {
      const first = command.args[0]!.type;
      if (first === 'bool' || first === 'dot' || first === 'nil' || first === 'number' || first === 'string') {
        this.errorf(`non executable command in pipeline stage ${index + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const command: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) command.args.push(operand);
      const token = this.next();
      if (token.typ === 'space') continue;
      if (token.typ === 'rightDelim' || token.typ === 'rightParen') this.backup();
      else if (token.typ !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (command.args.length === 0) this.errorf('empty command');
    return command;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().typ !== 'field') return node;
    const chain: ChainNode = { type: 'chain', pos: this.peek().pos, node, field: [] };
    while (this.peek().typ === 'field') chain.field.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: chain.pos, ident: [...node.ident, ...chain.field] };
      case 'variable':
        return { type: 'variable', pos: chain.pos, ident: [...node.ident, ...chain.field] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${quoteGo(nodeString(node))}`);
      // falls through (errorf throws)
      default:
        return chain;
    }
  }

  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case 'identifier':
        if (this.funcs[token.val] === undefined) this.errorf(`function ${quoteGo(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'nil':
        return { type: 'nil', pos: token.pos };
      case 'variable': {
        const ident = token.val.split('.');
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${quoteGo(ident[0]!)}`);
        return { type: 'variable', pos: token.pos, ident };
      }
      case 'field':
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        try {
          return newNumber(token.pos, token.val, token.typ);
        } catch (error) {
          if (error instanceof UnsupportedError) this.errorf(`${error.message} by yard`);
          this.errorf((error as Error).message);
        }
      // falls through (errorf throws)
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString': {
        const text = unquote(token.val);
        if (text === undefined) this.errorf('invalid syntax');
        return { type: 'string', pos: token.pos, quoted: token.val, text };
      }
    }
    this.backup();
    return undefined;
  }
}

/** Parses a template's text: Go's Tree.Parse. Throws TemplateError. */
export function parseTemplate(name: string, text: string, funcs: FuncMap): ListNode {
  return new Parser(name, text, funcs).parse();
}
