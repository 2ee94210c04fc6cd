/**
 * Letta's tool schema from a Python function, built from what Python's `ast` found in the source
 * (the child parses, never executes; see PYTHON_PRELUDE's _lrs_describe). Pure, so the conversion
 * is unit-tested without Pyodide. It follows Letta's schema generator: Google-style docstrings
 * (docstring_parser's reading of them), annotations mapped to JSON Schema types, `self` and
 * `agent_state` left out, required = no default and not Optional.
 */
import type { DescribeResult, GeneratedToolSchema } from './types';

/** An annotation as the child's `ast` walk reports it. */
export type Annotation =
  | { k: 'name'; id: string }
  | { k: 'attr'; value: Annotation; attr: string }
  | { k: 'sub'; value: Annotation; args: Annotation[] }
  | { k: 'const'; value: string | number | boolean | null }
  | { k: 'union'; args: Annotation[] }
  | { k: 'other'; text: string };

export interface ParsedParam {
  name: string;
  annotation: Annotation | null;
  hasDefault: boolean;
  /** 'positional' | 'keyword' | 'varargs' | 'varkw' */
  kind: string;
}

export interface ParsedFunction {
  name: string;
  docstring: string | null;
  params: ParsedParam[];
}

export type ParsedSource = { ok: true; functions: ParsedFunction[] } | { ok: false; problem: string };

const SECTION_TITLES = [
  'Args', 'Arguments', 'Parameters', 'Params', 'Attributes', 'Raises', 'Exceptions', 'Except',
  'Returns', 'Return', 'Yields', 'Yield', 'Example', 'Examples', 'Note', 'Notes', 'Todo', 'Warning',
  'Warnings', 'Warns', 'See Also', 'References', 'Other Parameters', 'Keyword Args', 'Keyword Arguments',
];
const PARAM_SECTIONS = new Set(['Args', 'Arguments', 'Parameters', 'Params']);
const TITLE = new RegExp(`^(${SECTION_TITLES.join('|')}):[ \\t]*$`);

export interface ParsedDocstring {
  shortDescription: string | null;
  longDescription: string | null;
  params: Map<string, string>;
  examples: string | null;
}

/** Removes the common leading whitespace of the lines after the first (Python's inspect.cleandoc). */
export function cleandoc(text: string): string {
  const lines = text.replace(/\t/g, '        ').split('\n');
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = line.trimStart();
    if (content.length > 0) margin = Math.min(margin, line.length - content.length);
  }
  const out = [lines[0].trimStart(), ...lines.slice(1).map((line) => (margin === Infinity ? line : line.slice(margin)))];
  while (out.length > 0 && out[0].trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop();
  return out.map((line) => line.replace(/\s+$/, '')).join('\n');
}

/** A Google-style docstring read the way docstring_parser reads it (which Letta uses). */
export function parseGoogleDocstring(raw: string): ParsedDocstring {
  const lines = cleandoc(raw).split('\n');
  const sections: { title: string; lines: string[] }[] = [];
  const description: string[] = [];
  for (const line of lines) {
    const title = TITLE.exec(line);
    if (title) sections.push({ title: title[1], lines: [] });
    else if (sections.length > 0) sections[sections.length - 1].lines.push(line);
    else description.push(line);
  }
  const descriptionText = description.join('\n').trim();
  const [first, ...rest] = descriptionText.split('\n');
  const shortDescription = first ? first.trim() : null;
  const long = rest.join('\n').trim();

  const params = new Map<string, string>();
  let examples: string | null = null;
  for (const section of sections) {
    if (PARAM_SECTIONS.has(section.title)) {
      for (const item of splitItems(section.lines)) {
        const colon = item.indexOf(':');
        if (colon < 0) continue;
        const head = item.slice(0, colon).trim();
        const name = head.replace(/\s*\(.*\)\s*$/, '').replace(/^\*+/, '').trim();
        let desc = item.slice(colon + 1);
        if (desc.startsWith(' ')) desc = desc.slice(1);
        const newline = desc.indexOf('\n');
        if (newline >= 0) desc = `${desc.slice(0, newline)}\n${cleandoc(`\n${desc.slice(newline + 1)}`)}`;
        params.set(name, desc.replace(/^\n+|\n+$/g, '').trim());
      }
    }
    if ((section.title === 'Examples' || section.title === 'Example') && examples === null) {
      examples = [`${section.title}:`, ...section.lines].join('\n').trim();
    }
  }
  return { shortDescription: shortDescription || null, longDescription: long || null, params, examples };
}

/** A section's lines grouped into items: a line at the section's own indent starts one. */
function splitItems(lines: string[]): string[] {
  const nonEmpty = lines.filter((line) => line.trim().length > 0);
  if (nonEmpty.length === 0) return [];
  const indent = Math.min(...nonEmpty.map((line) => line.length - line.trimStart().length));
  const items: string[][] = [];
  for (const line of lines) {
    if (line.trim().length === 0) {
      if (items.length > 0) items[items.length - 1].push('');
      continue;
    }
    const lineIndent = line.length - line.trimStart().length;
    if (lineIndent <= indent || items.length === 0) items.push([line.slice(indent)]);
    else items[items.length - 1].push(line.slice(indent));
  }
  return items.map((item) => item.join('\n').replace(/\n+$/, ''));
}

class SchemaProblem extends Error {}

function annotationName(annotation: Annotation): string | null {
  if (annotation.k === 'name') return annotation.id;
  if (annotation.k === 'attr' && annotation.value.k === 'name' && ['typing', 'typing_extensions', 't'].includes(annotation.value.id)) {
    return annotation.attr;
  }
  return null;
}

export function annotationText(annotation: Annotation): string {
  switch (annotation.k) {
    case 'name':
      return annotation.id;
    case 'attr':
      return `${annotationText(annotation.value)}.${annotation.attr}`;
    case 'sub':
      return `${annotationText(annotation.value)}[${annotation.args.map(annotationText).join(', ')}]`;
    case 'const':
      return annotation.value === null ? 'None' : JSON.stringify(annotation.value);
    case 'union':
      return annotation.args.map(annotationText).join(' | ');
    case 'other':
      return annotation.text;
  }
}

function isNone(annotation: Annotation): boolean {
  return (annotation.k === 'const' && annotation.value === null) || (annotation.k === 'name' && annotation.id === 'None');
}

/** The members of a Union[...] / Optional[...] / X | Y, or null when the annotation is none of them. */
function unionMembers(annotation: Annotation): Annotation[] | null {
  if (annotation.k === 'union') return annotation.args;
  if (annotation.k === 'sub') {
    const base = annotationName(annotation.value);
    if (base === 'Optional') return [...annotation.args, { k: 'const', value: null }];
    if (base === 'Union') return annotation.args;
  }
  return null;
}

export function isOptionalAnnotation(annotation: Annotation | null): boolean {
  const members = annotation ? unionMembers(annotation) : null;
  return members !== null && members.some(isNone);
}

const BASIC: Record<string, string> = { int: 'integer', str: 'string', bool: 'boolean', float: 'number' };

/** Letta's mapping of a Python annotation to a JSON Schema type. */
export function annotationToSchema(annotation: Annotation): Record<string, unknown> {
  const members = unionMembers(annotation);
  if (members) {
    const others = members.filter((member) => !isNone(member));
    if (others.length === 1 && others.length < members.length) return annotationToSchema(others[0]);
    if (others.length < members.length) throw new SchemaProblem(`Optional type must have exactly one type argument, but got ${annotationText(annotation)}`);
    throw new SchemaProblem(`General Union types are not yet supported (${annotationText(annotation)})`);
  }
  if (isNone(annotation)) return { type: 'null' };
  const name = annotationName(annotation);
  if (annotation.k === 'sub') {
    const base = annotationName(annotation.value);
    if (base === 'list' || base === 'List' || base === 'Sequence') {
      return { type: 'array', items: annotation.args.length > 0 ? annotationToSchema(annotation.args[0]) : { type: 'string' } };
    }
    if (base === 'Literal') {
      return { type: 'string', enum: annotation.args.map((arg) => (arg.k === 'const' ? arg.value : annotationText(arg))) };
    }
    if (base === 'tuple' || base === 'Tuple') {
      const args = annotation.args;
      if (args.length === 2 && args[1].k === 'other' && args[1].text === '...') {
        throw new SchemaProblem(`Variable-length tuples (e.g., Tuple[int, ...]) are not supported`);
      }
      return { type: 'array', prefixItems: args.map(annotationToSchema), minItems: args.length, maxItems: args.length };
    }
    if (base === 'dict' || base === 'Dict') {
      throw new SchemaProblem(`Dictionary types ${annotationText(annotation)} with nested type arguments are not supported (consider using a Pydantic model instead)`);
    }
    throw new SchemaProblem(`Python type ${annotationText(annotation)} has no corresponding JSON schema type`);
  }
  if (name !== null) {
    if (BASIC[name]) return { type: BASIC[name] };
    if (name === 'list' || name === 'List') return { type: 'array', items: { type: 'string' } };
    if (name === 'dict' || name === 'Dict') return { type: 'object' };
    if (name === 'tuple' || name === 'Tuple') throw new SchemaProblem('Tuple type must have at least one element');
  }
  throw new SchemaProblem(`Python type ${annotationText(annotation)} has no corresponding JSON schema type`);
}

/** Which function a tool is: the one named, else the last top-level def (as Letta picks it). */
export function pickFunction(functions: ParsedFunction[], functionName?: string): ParsedFunction | string {
  if (functions.length === 0) return 'No function definition found in the source code';
  if (functionName) {
    const found = functions.find((fn) => fn.name === functionName);
    return found ?? `No function named '${functionName}' in the source code (found: ${functions.map((fn) => fn.name).join(', ')})`;
  }
  return functions[functions.length - 1];
}

export function schemaOfFunction(fn: ParsedFunction): DescribeResult {
  const params = fn.params.filter((param) => param.name !== 'self' && param.name !== 'agent_state' && param.kind !== 'varargs' && param.kind !== 'varkw');
  if (!fn.docstring || !fn.docstring.trim()) {
    if (params.length > 0) {
      return { ok: false, problem: `Function '${fn.name}' has no docstring. Expected Google Python style docstring with Args and Returns sections.` };
    }
  }
  const doc = parseGoogleDocstring(fn.docstring ?? '');
  let description: string;
  if (doc.shortDescription && doc.longDescription) description = `${doc.shortDescription}\n\n${doc.longDescription}`;
  else description = doc.shortDescription ?? doc.longDescription ?? 'No description available';
  if (doc.examples && !description.includes('Examples:')) description = `${description}\n\n${doc.examples}`;

  const schema: GeneratedToolSchema = { name: fn.name, description, parameters: { type: 'object', properties: {}, required: [] } };
  try {
    for (const param of params) {
      if (!param.annotation) throw new SchemaProblem(`Parameter '${param.name}' in function '${fn.name}' lacks a type annotation`);
      const paramDescription = doc.params.get(param.name);
      if (!paramDescription) throw new SchemaProblem(`Parameter '${param.name}' in function '${fn.name}' lacks a description in the docstring`);
      schema.parameters.properties[param.name] = { ...annotationToSchema(param.annotation), description: paramDescription };
      if (!param.hasDefault && !isOptionalAnnotation(param.annotation)) schema.parameters.required.push(param.name);
    }
  } catch (error) {
    if (error instanceof SchemaProblem) return { ok: false, problem: error.message };
    throw error;
  }
  return { ok: true, schema };
}

export function schemaOfSource(parsed: ParsedSource, functionName?: string): DescribeResult {
  if (!parsed.ok) return parsed;
  const fn = pickFunction(parsed.functions, functionName);
  return typeof fn === 'string' ? { ok: false, problem: fn } : schemaOfFunction(fn);
}
