/**
 * Offline validation of custom resources (KEDA, CloudNativePG, cert-manager, Prometheus Operator)
 * against the JSON schemas of the `@kubernetes-models/*` packages generated from each project's
 * API types. Those releases are ES modules only and build on `kubernetes-models` 5, where
 * ./k8s-schema.ts loads version 4 with `require`, so the schema check runs in a child `node`
 * process (./custom-resource-schemas.mjs). Unknown fields are caught by k8s-schema.ts's
 * StrictFieldChecker, which reads the same packages' type declarations.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { K8sObject } from './k8s-schema';

/** API group → the package that has its models. */
export const CUSTOM_RESOURCE_PACKAGES: Readonly<Record<string, string>> = {
  'keda.sh': '@kubernetes-models/keda',
  'postgresql.cnpg.io': '@kubernetes-models/cloudnative-pg',
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

const CHILD = join(__dirname, 'custom-resource-schemas.mjs');

/** The group of `group/version`; '' for the core group. */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function isCustomResource(object: { apiVersion: string }): boolean {
  return apiGroup(object.apiVersion) in CUSTOM_RESOURCE_PACKAGES;
}

/** Where a custom resource's kind is declared (`<package>/<group>/<version>/<Kind>.d.ts`), or null. */
export function customResourceDeclarationFile(apiVersion: string, kind: string): string | null {
  const group = apiGroup(apiVersion);
  const pkg = CUSTOM_RESOURCE_PACKAGES[group];
  if (!pkg) return null;
  const root = dirname(require.resolve(`${pkg}/package.json`));
  return join(root, apiVersion, `${kind}.d.ts`);
}

/** Schema errors of each object, in order; empty lists for valid ones. One child process for all. */
export function customResourceSchemaErrors(objects: K8sObject[]): string[][] {
  if (objects.length === 0) return [];
  const child = spawnSync(process.execPath, [CHILD], {
    input: JSON.stringify({ packages: CUSTOM_RESOURCE_PACKAGES, objects }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(`${CHILD} exited with ${child.status}: ${child.stderr}`);
  const results = JSON.parse(child.stdout) as string[][];
  if (results.length !== objects.length) throw new Error(`${CHILD} answered ${results.length} results for ${objects.length} objects`);
  return results;
}
