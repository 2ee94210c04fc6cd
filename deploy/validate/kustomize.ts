/**
 * A small, strict kustomize renderer for the features deploy/ uses: `resources` (files and
 * directories holding a kustomization), `namespace`, `images` and strategic-merge `patches`
 * given by `path` (maps merge; lists are refused). Anything else in a kustomization is an error,
 * so a new kustomize feature cannot be silently ignored: extend this renderer with it instead.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './k8s-schema';

export const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'patches']);
const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'PriorityClass']);

export interface Kustomization {
  apiVersion: string;
  kind: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: unknown }[];
  [key: string]: unknown;
}

export interface RenderResult {
  objects: K8sObject[];
  /** Every file the render read, kustomization files included (absolute paths). */
  files: string[];
  errors: string[];
}

/** Parses every YAML document of a text; parse errors and warnings are reported, never skipped. */
export function parseYamlDocuments(text: string, source: string): { docs: unknown[]; errors: string[] } {
  const documents = parseAllDocuments(text);
  const errors: string[] = [];
  const docs: unknown[] = [];
  for (const document of documents) {
    for (const problem of [...document.errors, ...document.warnings]) errors.push(`${source}: ${problem.message}`);
    const value = document.toJS({ maxAliasCount: 100 }) as unknown;
    if (value !== null && value !== undefined) docs.push(value);
  }
  return { docs, errors };
}

/** Every YAML document of a file (see parseYamlDocuments). */
export function readYamlDocuments(file: string): { docs: unknown[]; errors: string[] } {
  return parseYamlDocuments(readFileSync(file, 'utf8'), file);
}

export function readKustomization(dir: string): { kustomization: Kustomization | null; errors: string[] } {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) return { kustomization: null, errors: [`${dir}: no kustomization.yaml`] };
  const { docs, errors } = readYamlDocuments(file);
  if (docs.length !== 1) return { kustomization: null, errors: [...errors, `${file}: expected exactly one document`] };
  const kustomization = docs[0] as Kustomization;
  if (kustomization.apiVersion !== 'kustomize.config.k8s.io/v1beta1') errors.push(`${file}: apiVersion must be kustomize.config.k8s.io/v1beta1`);
  if (kustomization.kind !== 'Kustomization') errors.push(`${file}: kind must be Kustomization`);
  for (const key of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_KEYS.has(key)) errors.push(`${file}: "${key}" is not supported by the validation renderer (deploy/validate/kustomize.ts)`);
  }
  return { kustomization, errors };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strategic merge restricted to maps; list fields would need Kubernetes' merge keys. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>, path: string, errors: string[]): void {
  for (const [key, value] of Object.entries(patch)) {
    if (Array.isArray(value)) {
      errors.push(`patch sets the list ${path}${key}: list merges are not supported by the validation renderer`);
    } else if (isPlainObject(value) && isPlainObject(target[key])) {
      mergePatch(target[key] as Record<string, unknown>, value, `${path}${key}.`, errors);
    } else if (value === null) {
      delete target[key];
    } else {
      target[key] = value;
    }
  }
}

/** Init and regular containers of a workload's pod template. */
export function containersOf(object: K8sObject): Record<string, unknown>[] {
  const spec = object.spec as Record<string, unknown> | undefined;
  const podSpec =
    object.kind === 'Pod'
      ? spec
      : object.kind === 'CronJob'
        ? ((((spec?.jobTemplate as Record<string, unknown>)?.spec as Record<string, unknown>)?.template as Record<string, unknown>)?.spec as Record<string, unknown>)
        : ((spec?.template as Record<string, unknown> | undefined)?.spec as Record<string, unknown> | undefined);
  if (!podSpec) return [];
  return [...((podSpec.initContainers as Record<string, unknown>[]) ?? []), ...((podSpec.containers as Record<string, unknown>[]) ?? [])];
}

function applyImages(objects: K8sObject[], images: NonNullable<Kustomization['images']>, file: string, errors: string[]): void {
  for (const image of images) {
    let matched = false;
    for (const container of objects.flatMap(containersOf)) {
      const current = String(container.image ?? '');
      const name = current.split('@')[0].replace(/:[^:/]+$/, '');
      if (name !== image.name) continue;
      matched = true;
      const tag = image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : current.slice(name.length);
      container.image = `${image.newName ?? name}${tag}`;
    }
    if (!matched) errors.push(`${file}: images entry "${image.name}" matches no container image`);
  }
}

function idOf(object: K8sObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return `${group}/${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
}

export function renderKustomization(dir: string, visited: string[] = []): RenderResult {
  const root = resolve(dir);
  const result: RenderResult = { objects: [], files: [join(root, 'kustomization.yaml')], errors: [] };
  for (const ancestor of visited) {
    if (ancestor === root || ancestor.startsWith(`${root}/`)) {
      result.errors.push(`cycle: ${root} contains the kustomization ${ancestor} that refers to it (kustomize refuses this)`);
      return result;
    }
  }
  const { kustomization, errors } = readKustomization(root);
  result.errors.push(...errors);
  if (!kustomization) return result;
  const file = join(root, 'kustomization.yaml');

  const resources = kustomization.resources ?? [];
  if (new Set(resources).size !== resources.length) result.errors.push(`${file}: duplicate entries in resources`);
  for (const entry of resources) {
    const target = resolve(root, entry);
    if (!existsSync(target)) {
      result.errors.push(`${file}: resource "${entry}" does not exist`);
      continue;
    }
    if (statSync(target).isDirectory()) {
      const nested = renderKustomization(target, [...visited, root]);
      result.objects.push(...nested.objects);
      result.files.push(...nested.files);
      result.errors.push(...nested.errors);
      continue;
    }
    if (!relative(root, target).split('/').every((part) => part !== '..')) {
      result.errors.push(`${file}: file resource "${entry}" lies outside the kustomization root (kustomize's load restrictions refuse it)`);
      continue;
    }
    const { docs, errors: parseErrors } = readYamlDocuments(target);
    result.files.push(target);
    result.errors.push(...parseErrors);
    if (docs.length === 0) result.errors.push(`${target}: no documents`);
    for (const doc of docs) {
      if (!isPlainObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || !isPlainObject(doc.metadata)) {
        result.errors.push(`${target}: a document lacks apiVersion, kind or metadata`);
        continue;
      }
      result.objects.push(structuredClone(doc) as K8sObject);
    }
  }

  for (const patch of kustomization.patches ?? []) {
    if (!patch.path || patch.patch !== undefined || patch.target !== undefined) {
      result.errors.push(`${file}: only patches given by "path" alone are supported by the validation renderer`);
      continue;
    }
    const patchFile = resolve(root, patch.path);
    if (!existsSync(patchFile)) {
      result.errors.push(`${file}: patch "${patch.path}" does not exist`);
      continue;
    }
    result.files.push(patchFile);
    const { docs, errors: parseErrors } = readYamlDocuments(patchFile);
    result.errors.push(...parseErrors);
    for (const doc of docs as K8sObject[]) {
      const targets = result.objects.filter(
        (object) =>
          object.apiVersion === doc.apiVersion &&
          object.kind === doc.kind &&
          object.metadata.name === doc.metadata?.name &&
          (doc.metadata?.namespace === undefined || (object.metadata.namespace ?? kustomization.namespace) === doc.metadata.namespace),
      );
      if (targets.length !== 1) {
        result.errors.push(`${patchFile}: patch for ${doc.kind}/${doc.metadata?.name} matches ${targets.length} resources, expected 1`);
        continue;
      }
      const { apiVersion: _a, kind: _k, ...body } = doc;
      const { name: _n, namespace: _ns, ...metadata } = doc.metadata;
      mergePatch(targets[0] as Record<string, unknown>, { ...body, metadata }, '', result.errors);
    }
  }

  if (kustomization.namespace) {
    for (const object of result.objects) {
      if (CLUSTER_SCOPED_KINDS.has(object.kind)) continue;
      object.metadata.namespace = kustomization.namespace;
    }
  }
  applyImages(result.objects, kustomization.images ?? [], file, result.errors);

  const seen = new Set<string>();
  for (const object of result.objects) {
    const id = idOf(object);
    if (seen.has(id)) result.errors.push(`${file}: resource ${id} is defined twice (kustomize refuses duplicate ids)`);
    seen.add(id);
  }
  result.files = [...new Set(result.files)];
  return result;
}
