/**
 * A reimplementation of Go's text/template (Go 1.22–1.24 behaviour, as in the docker CLI builds),
 * enough for what people pass to `docker … --format`. Error messages keep Go's wording so that
 * `yard` prints what docker prints:
 *
 *   template: :1: function "foo" not defined
 *   template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type *network.networkContext
 *
 * Supported: text; actions with pipelines `a | b c`; fields `.A.B`, `.`, `$`, `$x.F`, `(pipe).F`;
 * variables `$x := …` and `$x = …`; if / else if / else with / else / range (slices, maps in sorted
 * key order, integers; `$v :=` and `$k, $v :=`; else) / with / end; break and continue; comments
 * `{{/* … *\/}}`; trim markers `{{- ` and ` -}}`; string, raw string, character, number, bool and nil
 * literals; methods with arguments (`.Label "x"`, `.Created.Format "2006"`); the builtins and, or,
 * not, len, index, slice, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, call.
 *
 * Refused with a clear message: {{define}}, {{template}}, {{block}}, complex and hexadecimal
 * floating-point literals; in printf, the verbs and values template-fmt.ts lists.
 */
import { builtins } from './template-builtins.js';
import { executeTemplate } from './template-exec.js';
import type { MissingKey } from './template-exec.js';
import { parseTemplate } from './template-parse.js';
import type { ListNode } from './template-parse.js';
import type { FuncMap, Value } from './template-values.js';

export { builtins } from './template-builtins.js';
export type { MissingKey } from './template-exec.js';
export { TemplateError } from './template-values.js';
export type { FuncMap, GoFunc } from './template-values.js';

export interface ExecuteOptions {
  /** Go's Option("missingkey=…"); docker's inspect fallback uses "error". */
  missingKey?: MissingKey;
}

/** A parsed template. */
export class Template {
  private constructor(
    readonly name: string,
    readonly text: string,
    readonly funcs: FuncMap,
    readonly root: ListNode,
  ) {}

  /** Parses like template.New(name).Funcs(funcs).Parse(text); the builtins are always there. */
  static parse(text: string, funcs: FuncMap = {}, name = ''): Template {
    const all: FuncMap = { ...builtins, ...funcs };
    const root = parseTemplate(name, text, all);
    return new Template(name, text, all, root);
  }

  /** Go's Funcs after parsing: the same tree executed with other implementations of some functions. */
  withFuncs(funcs: FuncMap): Template {
    return new Template(this.name, this.text, { ...this.funcs, ...funcs }, this.root);
  }

  /** Executes over data; a failure throws a TemplateError carrying what was written before it. */
  execute(data: Value, options: ExecuteOptions = {}): string {
    return executeTemplate(this, data, options.missingKey ?? 'default');
  }
}
