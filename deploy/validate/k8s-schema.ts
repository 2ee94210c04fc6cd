/**
 * Offline validation of Kubernetes objects.
 *
 * 1. `schemaErrors` runs the object through the JSON-schema validator that `kubernetes-models`
 *    compiled from the Kubernetes OpenAPI spec (types, enums, required fields, formats).
 * 2. `StrictFieldChecker` catches what those schemas allow but the API server rejects under
 *    strict field validation (kubectl's default): unknown fields such as `readinesProbe`. It
 *    walks the object alongside the TypeScript interfaces that ship with the same package, or
 *    for custom resources with the package of their API group (./custom-resources.ts).
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import * as k8s from 'kubernetes-models';
import ts from 'typescript';
import { customResourceDeclarationFile } from './custom-resources';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion: string;
  kind: string;
}

const modelsRoot = dirname(require.resolve('kubernetes-models/package.json'));

/** `apps/v1` → ['apps', 'v1']; `v1` → ['', 'v1']. */
function splitApiVersion(apiVersion: string): [string, string] {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

/** The package's export name for an API group: `networking.k8s.io` → `networkingK8sIo`. */
function groupExportName(group: string): string {
  return group.split(/[.-]/).map((part, index) => (index === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1))).join('');
}

export function modelFor(apiVersion: string, kind: string): ModelClass | null {
  const [group, version] = splitApiVersion(apiVersion);
  const root = k8s as unknown as Record<string, Record<string, unknown>>;
  const groupModule = group === '' ? root[version] : (root[groupExportName(group)]?.[version] as Record<string, unknown> | undefined);
  const model = groupModule?.[kind] as ModelClass | undefined;
  if (typeof model !== 'function' || model.apiVersion !== apiVersion || model.kind !== kind) return null;
  return model;
}

/** Schema errors as readable strings; empty when the object is valid. */
export function schemaErrors(object: K8sObject): string[] {
  const Model = modelFor(object.apiVersion, object.kind);
  if (!Model) return [`no Kubernetes schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error as { errors?: { instancePath: string; message?: string; params?: unknown }[] }).errors;
    if (!details?.length) return [String(error)];
    return details.map((detail) => `${detail.instancePath || '/'} ${detail.message ?? ''} ${JSON.stringify(detail.params ?? {})}`.trim());
  }
}

function declarationFile(apiVersion: string, kind: string): string {
  const customResource = customResourceDeclarationFile(apiVersion, kind);
  if (customResource) return customResource;
  const [group, version] = splitApiVersion(apiVersion);
  return join(modelsRoot, group === '' ? version : join(group, version), `${kind}.d.ts`);
}

/** Flags fields that do not exist in the Kubernetes type at their position. */
export class StrictFieldChecker {
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;

  constructor(kinds: { apiVersion: string; kind: string }[]) {
    const files = [...new Set(kinds.map((k) => declarationFile(k.apiVersion, k.kind)))].filter((file) => existsSync(file));
    this.program = ts.createProgram(files, {
      noEmit: true,
      skipLibCheck: true,
      types: [],
      moduleResolution: ts.ModuleResolutionKind.Node10,
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
    });
    this.checker = this.program.getTypeChecker();
  }

  unknownFields(object: K8sObject): string[] {
    const file = this.program.getSourceFile(declarationFile(object.apiVersion, object.kind));
    if (!file) return [`no type declarations for ${object.apiVersion} ${object.kind}`];
    const moduleSymbol = this.checker.getSymbolAtLocation(file);
    const exported = moduleSymbol && this.checker.getExportsOfModule(moduleSymbol).find((symbol) => symbol.name === `I${object.kind}`);
    if (!exported) return [`no interface I${object.kind} in ${file.fileName}`];
    const target = exported.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(exported) : exported;
    const errors: string[] = [];
    this.walk(object, this.checker.getDeclaredTypeOfSymbol(target), '', errors);
    return errors;
  }

  private walk(value: unknown, declared: ts.Type, path: string, errors: string[]): void {
    if (value === null || value === undefined || typeof value !== 'object') return;
    const type = this.checker.getNonNullableType(declared);
    // An import the compiler could not resolve gives the error type, which would accept anything.
    if ((type as { intrinsicName?: string }).intrinsicName === 'error') {
      errors.push(`${path.slice(1) || '/'}: its type declaration could not be resolved, so its fields are not checked`);
      return;
    }
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.NonPrimitive)) return;
    const members = type.isUnion() ? type.types : [type];

    if (Array.isArray(value)) {
      const element = members.map((member) => this.checker.getIndexTypeOfType(member, ts.IndexKind.Number)).find((t) => t !== undefined);
      if (element) value.forEach((item, index) => this.walk(item, element, `${path}[${index}]`, errors));
      return;
    }

    const objectTypes = members.filter((member) => member.flags & ts.TypeFlags.Object);
    if (objectTypes.length === 0) return; // a primitive in the types; the JSON schema reports mismatches
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childPath = `${path}.${key}`;
      const property = objectTypes.map((member) => member.getProperty(key)).find((symbol) => symbol !== undefined);
      if (property) {
        this.walk(child, this.checker.getTypeOfSymbol(property), childPath, errors);
        continue;
      }
      const indexType = objectTypes.map((member) => this.checker.getIndexTypeOfType(member, ts.IndexKind.String)).find((t) => t !== undefined);
      if (indexType) this.walk(child, indexType, childPath, errors);
      else errors.push(`${childPath.slice(1)}: unknown field "${key}"`);
    }
  }
}
