/**
 * Execution of a parsed template over Go values (text/template/exec.go): walking the tree, evaluating
 * pipelines, fields, methods and function calls with Go's argument checks, and Go's error messages
 * (`template: :1:2: executing "" at <.Foo>: …`).
 */
import { builtins } from './template-builtins.js';
import { describeValue, formatValue } from './template-fmt.js';
import { countNewlines } from './template-lex.js';
import { nodeString } from './template-parse.js';
import type { AnyNode, ArgNode, BranchNode, ChainNode, CommandNode, FieldNode, IdentifierNode, ListNode, Node, NumberNode, PipeNode, VariableNode } from './template-parse.js';
import {
  canBeNil,
  findField,
  float64Type,
  GoCallError,
  goBool,
  goInt,
  goString,
  indirect,
  indirectInterface,
  isExported,
  isTrue,
  paramTypeName,
  quoteGo,
  sameType,
  sortedKeys,
  TemplateError,
  truth,
  UnsupportedError,
  zeroValue,
} from './template-values.js';
import type { FuncMap, GoFunc, GoMethod, GoType, GoValue, ParamType, Value } from './template-values.js';

/** What a missing map key yields: Go's missingkey=default (`<no value>`), =zero or =error. */
export type MissingKey = 'default' | 'zero' | 'error';

/** Marks "no value piped in" (Go's missingVal), distinct from an invalid value. */
const MISSING: unique symbol = Symbol('missing');
type Final = Value | typeof MISSING;

class BreakSignal {}
class ContinueSignal {}

/** An execution failure inside the walk (turned into a TemplateError with the output so far). */
class ExecError extends Error {}

interface Variable {
  name: string;
  value: Value;
}


/** What execution needs of a template. */
export interface ExecutableTemplate {
  readonly name: string;
  readonly text: string;
  readonly funcs: FuncMap;
  readonly root: ListNode;
}

/** Go's ErrorContext: "name:line:byteColumn" and the node as text. */
export function errorContext(template: ExecutableTemplate, node: AnyNode): { location: string; context: string } {
  const before = template.text.slice(0, node.pos);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = countNewlines(before) + 1;
  const column = Buffer.byteLength(before.slice(lineStart), 'utf8');
  return { location: `${template.name}:${line}:${column}`, context: nodeString(node) };
}

class State {
  node: AnyNode | undefined;
  vars: Variable[];
  out = '';

  constructor(
    private readonly template: ExecutableTemplate,
    data: Value,
    private readonly missingKey: MissingKey,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  at(node: AnyNode): void {
    this.node = node;
  }

  errorf(message: string): never {
    const name = quoteGo(this.template.name);
    if (this.node === undefined) throw new ExecError(`template: ${this.template.name}: ${message}`);
    const { location, context } = errorContext(this.template, this.node);
    throw new ExecError(`template: ${location}: executing ${name} at <${context}>: ${message}`);
  }

  // ---- variables ----

  mark(): number {
    return this.vars.length;
  }

  pop(mark: number): void {
    this.vars.length = mark;
  }

  setVar(name: string, value: Value): void {
    for (let index = this.vars.length - 1; index >= 0; index--) {
      if (this.vars[index]!.name === name) {
        this.vars[index]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, value: Value): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  varValue(name: string): Value {
    for (let index = this.vars.length - 1; index >= 0; index--) {
      if (this.vars[index]!.name === name) return this.vars[index]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----

  walk(dot: Value, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, value);
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'comment':
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'list':
        for (const child of node.nodes) this.walk(dot, child);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'text':
        this.out += node.text;
        return;
    }
  }

  private walkIfOrWith(node: BranchNode, dot: Value): void {
    const mark = this.mark();
    try {
      const value = this.evalPipeline(dot, node.pipe);
      const { truth, ok } = isTrue(indirectInterface(value));
      if (!ok) this.errorf(`if/with can't use ${describeValue(value)}`);
      if (truth) this.walk(node.type === 'with' ? value : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: Value, node: BranchNode): void {
    this.at(node);
    const outer = this.mark();
    try {
      const value = indirect(this.evalPipeline(dot, node.pipe)).value;
      const mark = this.mark();
      const decl = node.pipe.decl;
      const oneIteration = (index: Value, element: Value) => {
        if (decl.length > 0) {
          if (node.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : element);
          else this.setTopVar(1, element);
        }
        if (decl.length > 1) {
          if (node.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, element);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(element, node.list);
        } catch (signal) {
          if (!(signal instanceof ContinueSignal)) throw signal;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      if (value !== undefined) {
        switch (value.type.kind) {
          case 'slice':
            for (const [index, element] of ((value.value as GoValue[] | null) ?? []).entries()) {
              ran = true;
              oneIteration(goInt(index), element);
            }
            break;
          case 'map': {
            const entries = value.value as Map<string, GoValue> | null;
            if (entries) {
              const keyType = (value.type as { key: GoType }).key;
              for (const key of sortedKeys(entries)) {
                ran = true;
                oneIteration({ type: keyType, value: key }, entries.get(key));
              }
            }
            break;
          }
          case 'int':
          case 'uint': {
            // Go 1.22+: range over an integer n yields 0 … n-1.
            if (decl.length > 1) this.errorf(`can't use ${describeValue(value)} to iterate over more than one variable`);
            const count = value.value as bigint;
            for (let index = 0n; index < count; index++) {
              ran = true;
              oneIteration(undefined, { type: value.type, value: index });
            }
            break;
          }
          default:
            this.errorf(`range can't iterate over ${describeValue(value)}`);
        }
      }
      if (!ran && node.elseList) this.walk(dot, node.elseList);
    } catch (signal) {
      if (!(signal instanceof BreakSignal)) throw signal;
    } finally {
      this.pop(outer);
    }
  }

  // ---- evaluation ----

  evalPipeline(dot: Value, pipe: PipeNode): Value {
    this.at(pipe);
    let value: Final = MISSING;
    for (const command of pipe.cmds) {
      value = this.evalCommand(dot, command, value);
      // A value of interface type: dig down to what it holds (a nil interface becomes invalid).
      if (value && value.type.kind === 'interface') value = undefined;
    }
    const result = value === MISSING ? undefined : value;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0]!, result);
      else this.vars.push({ name: variable.ident[0]!, value: result });
    }
    return result;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: Value, command: CommandNode, final: Final): Value {
    const first = command.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, command.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, command.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, command, command.args, final);
      case 'pipe':
        this.notAFunction(command.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, command.args, final);
    }
    this.at(first);
    this.notAFunction(command.args, final);
    switch (first.type) {
      case 'bool':
        return goBool(first.value);
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through (errorf throws)
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return goString(first.text);
    }
  }

  private idealConstant(constant: NumberNode): Value {
    this.at(constant);
    const isHexInt = /^[+-]?0[xX]/.test(constant.text) && !/[pP]/.test(constant.text);
    if (constant.isFloat && !isHexInt && !constant.text.startsWith("'") && /[.eEpP]/.test(constant.text)) {
      return { type: float64Type, value: constant.float64 };
    }
    if (constant.isInt) return goInt(constant.int64);
    if (constant.isUint) this.errorf(`${constant.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: Value, field: FieldNode, args: readonly ArgNode[], final: Final): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: Value, chain: ChainNode, args: readonly ArgNode[], final: Final): Value {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = this.evalArg(dot, 'reflect.Value', chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: Value, variable: VariableNode, args: readonly ArgNode[], final: Final): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: Value, receiver: Value, node: AnyNode, ident: readonly string[], args: readonly ArgNode[], final: Final): Value {
    let current = receiver;
    for (let index = 0; index < ident.length - 1; index++) current = this.evalField(dot, ident[index]!, node, [], MISSING, current);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, current);
  }

  private evalFunction(dot: Value, node: IdentifierNode, command: AnyNode, args: readonly ArgNode[], final: Final): Value {
    this.at(node);
    const fn = this.template.funcs[node.ident];
    if (!fn) this.errorf(`${quoteGo(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, node.ident in builtins && this.template.funcs[node.ident] === builtins[node.ident], command, node.ident, args, final);
  }

  private evalField(dot: Value, fieldName: string, node: AnyNode, args: readonly ArgNode[], final: Final, receiverValue: Value): Value {
    if (receiverValue === undefined) {
      if (this.missingKey === 'error') this.errorf(`nil data; no entry for key ${quoteGo(fieldName)}`);
      return undefined;
    }
    const typeName = receiverValue.type.name;
    const { value: receiver, isNil } = indirect(receiverValue);
    if (receiver!.type.kind === 'interface' && isNil) this.errorf(`nil pointer evaluating ${typeName}.${fieldName}`);
    // A method belongs to the type that declares it: the pointer (like docker's *xxxContext) or
    // the value it points to (time.Time).
    const pointerMethod = findMethod(receiverValue.type, fieldName);
    const method = pointerMethod ?? (isNil ? undefined : findMethod(receiver!.type, fieldName));
    if (method) {
      const target = pointerMethod ? receiverValue : receiver!;
      return this.evalCall(dot, boundMethod(method, target), false, node, fieldName, args, final);
    }
    const hasArgs = args.length > 1 || final !== MISSING;
    const type = receiver!.type;
    switch (type.kind) {
      case 'struct': {
        if (isNil) break;
        const found = findField(type, fieldName);
        if (found) {
          if (!isExported(fieldName)) this.errorf(`${fieldName} is an unexported field of struct type ${typeName}`);
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
          let value: GoValue = receiver!;
          for (const index of found.path) {
            value = (value.value as GoValue[])[index]!;
          }
          return value;
        }
        break;
      }
      case 'map': {
        if (type.key.kind !== 'string' && type.key.kind !== 'interface') break;
        if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
        const result = (receiver!.value as Map<string, GoValue> | null)?.get(fieldName);
        if (result !== undefined) return result;
        if (this.missingKey === 'zero') return zeroValue(type.elem);
        if (this.missingKey === 'error') this.errorf(`map has no entry for key ${quoteGo(fieldName)}`);
        return undefined;
      }
      case 'pointer': {
        const elem = type.elem;
        if (elem.kind === 'struct' && !findField(elem, fieldName)) break;
        if (isNil) this.errorf(`nil pointer evaluating ${typeName}.${fieldName}`);
        break;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeName}`);
  }

  private evalCall(dot: Value, fn: GoFunc, isBuiltin: boolean, node: AnyNode, name: string, argNodes: readonly ArgNode[] | undefined, final: Final): Value {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      // Short-circuit: the first argument that decides is the result.
      let value: Value;
      for (const arg of args) {
        value = this.evalArg(dot, 'reflect.Value', arg);
        if (truth(value) === (name === 'or')) return value;
      }
      if (final !== MISSING) value = this.validateType(final, 'reflect.Value');
      return value;
    }

    const argv: Value[] = [];
    let index = 0;
    for (; index < numFixed && index < args.length; index++) argv.push(this.evalArg(dot, fn.params[index]!, args[index]!));
    if (fn.variadic) for (; index < args.length; index++) argv.push(this.evalArg(dot, fn.variadic, args[index]!));
    if (final !== MISSING) {
      let type: ParamType = fn.variadic ?? fn.params[fn.params.length - 1]!;
      if (fn.variadic && numIn - 1 < numFixed) type = fn.params[numIn - 1]!;
      argv.push(this.validateType(final, type));
    }
    if (isBuiltin && name === 'call') {
      const callee = argv[0];
      const calleeName = args[0] ? nodeString(args[0]) : '';
      this.at(node);
      if (indirectInterface(callee) === undefined) this.errorf('error calling call: call of nil');
      this.errorf(`error calling call: non-function ${calleeName} of type ${callee!.type.name}`);
    }
    try {
      return fn.call(argv);
    } catch (error) {
      if (error instanceof GoCallError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${error.message}`);
      }
      if (error instanceof UnsupportedError) {
        this.at(node);
        this.errorf(`yard: ${error.message}`);
      }
      throw error;
    }
  }

  private validateType(value: Value, type: ParamType): Value {
    if (value === undefined) {
      if (type === 'reflect.Value') return undefined;
      if (canBeNil(type)) return zeroValue(type);
      this.errorf(`invalid value; expected ${type.name}`);
    }
    if (type === 'reflect.Value' || type.kind === 'interface') return value;
    if (sameType(value.type, type)) return value;
    if (value.type.kind === 'pointer' && sameType(value.type.elem, type)) {
      if (value.value === null) this.errorf(`dereference of nil pointer of type ${type.name}`);
      return value.value as GoValue;
    }
    this.errorf(`wrong type for value; expected ${type.name}; got ${value.type.name}`);
  }

  private evalArg(dot: Value, type: ParamType, node: ArgNode): Value {
    this.at(node);
    switch (node.type) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (canBeNil(type)) return type === 'reflect.Value' ? undefined : zeroValue(type);
        this.errorf(`cannot assign nil to ${paramTypeName(type)}`);
      // falls through (errorf throws)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, node, [node], MISSING), type);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, node, [], MISSING), type);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, node), type);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, node, node, [], MISSING), type);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, node, [], MISSING), type);
    }
    if (type === 'reflect.Value' || type.kind === 'interface') return this.evalEmptyInterface(dot, node);
    switch (type.kind) {
      case 'bool':
        if (node.type === 'bool') return { type, value: node.value };
        this.errorf(`expected bool; found ${nodeString(node)}`);
      // falls through (errorf throws)
      case 'string':
        if (node.type === 'string') return { type, value: node.text };
        this.errorf(`expected string; found ${nodeString(node)}`);
      // falls through (errorf throws)
      case 'int':
        if (node.type === 'number' && node.isInt) return { type, value: node.int64 };
        this.errorf(`expected integer; found ${nodeString(node)}`);
      // falls through (errorf throws)
      case 'uint':
        if (node.type === 'number' && node.isUint) return { type, value: node.uint64 };
        this.errorf(`expected unsigned integer; found ${nodeString(node)}`);
      // falls through (errorf throws)
      case 'float':
        if (node.type === 'number' && node.isFloat) return { type, value: node.float64 };
        this.errorf(`expected float; found ${nodeString(node)}`);
    }
    this.errorf(`can't handle ${nodeString(node)} for arg of type ${type.name}`);
  }

  private evalEmptyInterface(dot: Value, node: ArgNode): Value {
    this.at(node);
    switch (node.type) {
      case 'bool':
        return goBool(node.value);
      case 'dot':
        return dot;
      case 'field':
        return this.evalFieldNode(dot, node, [], MISSING);
      case 'identifier':
        return this.evalFunction(dot, node, node, [], MISSING);
      case 'number':
        return this.idealConstant(node);
      case 'string':
        return goString(node.text);
      case 'variable':
        return this.evalVariableNode(dot, node, [], MISSING);
      case 'pipe':
        return this.evalPipeline(dot, node);
    }
    this.errorf(`can't handle assignment of ${nodeString(node)} to empty interface argument`);
  }

  private printValue(node: AnyNode, value: Value): void {
    this.at(node);
    let printable = value;
    if (printable && printable.type.kind === 'pointer') printable = indirect(printable).value;
    if (printable === undefined) {
      this.out += '<no value>';
      return;
    }
    try {
      this.out += formatValue(printable);
    } catch (error) {
      if (error instanceof UnsupportedError) this.errorf(`yard: ${error.message}`);
      throw error;
    }
  }
}

function findMethod(type: GoType, name: string): GoMethod | undefined {
  return type.methods?.[name];
}

function boundMethod(method: GoMethod, receiver: GoValue): GoFunc {
  const fn: GoFunc = { params: method.params, call: (args) => method.call(receiver, args) };
  if (method.variadic) fn.variadic = method.variadic;
  return fn;
}

/** Runs a parsed template over data; a failure throws a TemplateError carrying the output so far. */
export function executeTemplate(template: ExecutableTemplate, data: Value, missingKey: MissingKey): string {
  // Go's Execute takes data as an `any`: a nil interface arrives as the invalid value.
  const dot = data && data.type.kind === 'interface' ? undefined : data;
  const state = new State(template, dot, missingKey);
  try {
    state.walk(dot, template.root);
  } catch (error) {
    if (error instanceof ExecError) throw new TemplateError(error.message, state.out);
    throw error;
  }
  return state.out;
}
