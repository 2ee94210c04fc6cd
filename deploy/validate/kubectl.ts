/**
 * Renders kustomizations with the real `kubectl kustomize` (kustomize as the cluster's tooling
 * runs it) and finds every kustomization under deploy/. CI has kubectl (.ci/run fails without
 * it); where it is missing, the specs say so and fall back to ./kustomize.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject } from './k8s-schema';
import { parseYamlDocuments, readYamlDocuments } from './kustomize';

/** `kubectl version --client` output's first line, or null when kubectl does not run. */
export function kubectlVersion(): string | null {
  const run = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return null;
  return run.stdout.split('\n').filter(Boolean).join('; ');
}

export interface KubectlRender {
  objects: K8sObject[];
  /** kubectl's complaint, or problems in the YAML it printed. */
  errors: string[];
}

/** `kubectl kustomize <dir>`, parsed; documents that are not objects are errors. */
export function kubectlKustomize(dir: string): KubectlRender {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) return { objects: [], errors: [`kubectl kustomize ${dir}: ${run.error.message}`] };
  if (run.status !== 0) return { objects: [], errors: [`kubectl kustomize ${dir} exited with ${run.status}: ${run.stderr.trim()}`] };
  const { docs, errors } = parseYamlDocuments(run.stdout, `kubectl kustomize ${dir}`);
  const objects: K8sObject[] = [];
  for (const doc of docs) {
    const object = doc as Partial<K8sObject>;
    if (typeof object.apiVersion === 'string' && typeof object.kind === 'string' && typeof object.metadata?.name === 'string') objects.push(object as K8sObject);
    else errors.push(`kubectl kustomize ${dir}: a document lacks apiVersion, kind or metadata.name`);
  }
  return { objects, errors };
}

export interface KustomizationDir {
  dir: string;
  /** `Kustomization` renders on its own; a `Component` only inside a kustomization that lists it. */
  kind: 'Kustomization' | 'Component';
  /** Its `resources` and `components` entries. */
  references: string[];
}

/** Every directory under `root` that holds a kustomization.yaml, sorted. */
export function findKustomizations(root: string): KustomizationDir[] {
  const found: KustomizationDir[] = [];
  const visit = (dir: string): void => {
    const names = readdirSync(dir).sort();
    if (names.includes('kustomization.yaml')) {
      const [doc] = readYamlDocuments(join(dir, 'kustomization.yaml')).docs as { kind?: string; resources?: string[]; components?: string[] }[];
      found.push({ dir, kind: doc?.kind === 'Component' ? 'Component' : 'Kustomization', references: [...(doc?.resources ?? []), ...(doc?.components ?? [])] });
    }
    for (const name of names) if (statSync(join(dir, name)).isDirectory()) visit(join(dir, name));
  };
  visit(root);
  return found;
}
