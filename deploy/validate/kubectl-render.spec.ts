/**
 * Every kustomization under deploy/, rendered the way it is applied (`kubectl kustomize`), and
 * every object of the output validated: built-in kinds against the Kubernetes OpenAPI schemas,
 * custom resources (KEDA, CloudNativePG, cert-manager, Prometheus Operator) against the schemas
 * generated from their projects' API types, and all of them under strict field validation.
 *
 * CI has kubectl (.ci/run fails without it). Without kubectl the suite says so in its name and
 * falls back to the repository's renderer (./kustomize.ts); kustomizations that use features
 * only kustomize has are then listed as not rendered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { StrictFieldChecker, type K8sObject } from './k8s-schema';
import { isCustomResource } from './custom-resources';
import { probeCluster, probeDeployment, probeScaledObject } from './fixtures';
import { findKustomizations, kubectlKustomize, kubectlVersion } from './kubectl';
import { renderKustomization } from './kustomize';
import { REPO_ROOT } from './source-env';
import { validationErrors } from './validate-objects';

const KUBECTL = kubectlVersion();
const RENDERER = KUBECTL ? `kubectl kustomize (${KUBECTL})` : 'the repository renderer: kubectl is NOT on PATH';
const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

interface Rendered {
  objects: K8sObject[];
  errors: string[];
  /** Why the fallback renderer could not render it. */
  notRendered?: string;
}

function render(dir: string): Rendered {
  if (KUBECTL) return kubectlKustomize(dir);
  const fallback = renderKustomization(dir);
  if (fallback.errors.some((error) => error.includes('by the validation renderer'))) {
    return { objects: [], errors: [], notRendered: 'it uses kustomize features the repository renderer lacks' };
  }
  return { objects: fallback.objects, errors: fallback.errors };
}

const kustomizations = findKustomizations(DEPLOY_DIR);
const buildable = kustomizations.filter((k) => k.kind === 'Kustomization');
const renders = buildable.map(({ dir }) => ({ name: relative(REPO_ROOT, dir), ...render(dir) }));

const deployment = probeDeployment;
const scaledObject = probeScaledObject;
const cluster = probeCluster;

/** One type checker for every kind the suite meets: building it costs seconds. */
const strict = new StrictFieldChecker([...renders.flatMap((r) => r.objects), deployment(), scaledObject(), cluster()]);

describe(`every kustomization under deploy/, rendered by ${RENDERER}`, () => {
  it('finds the kustomizations, and every component is used by a kustomization', () => {
    expect(renders.map((r) => r.name)).toEqual(expect.arrayContaining(['deploy/k8s', 'deploy/kind', 'deploy/production']));
    const used = new Set(kustomizations.flatMap(({ dir, references }) => references.map((reference) => resolve(dir, reference))));
    const unused = kustomizations.filter((k) => k.kind === 'Component' && !used.has(k.dir)).map((k) => relative(REPO_ROOT, k.dir));
    expect(unused).toEqual([]);
  });

  describe.each(renders)('$name', (rendered) => {
    const run = rendered.notRendered ? it.skip : it;
    const suffix = rendered.notRendered ? ` (NOT rendered: ${rendered.notRendered}; install kubectl)` : '';

    run(`renders without errors${suffix}`, () => {
      expect(rendered.errors).toEqual([]);
      expect(rendered.objects.length).toBeGreaterThan(0);
    });

    run(`validates every object, custom resources included, against its schema with strict fields${suffix}`, () => {
      expect(validationErrors(rendered.objects, strict)).toEqual([]);
    });
  });

  const production = renders.find((r) => r.name === 'deploy/production');
  (production?.notRendered ? it.skip : it)('meets custom resources in the production overlay', () => {
    const kinds = new Set(production?.objects.filter(isCustomResource).map((object) => `${object.apiVersion} ${object.kind}`));
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(['cert-manager.io/v1 Certificate', 'keda.sh/v1alpha1 ScaledObject', 'monitoring.coreos.com/v1 PodMonitor', 'postgresql.cnpg.io/v1 Cluster']),
    );
  });

  describe('negative controls', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'kubectl-render-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);
    const kustomization = (...resources: string[]): void =>
      write('kustomization.yaml', `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${resources.join(', ')}]\n`);

    it('a manifest kustomize cannot parse fails the render', () => {
      // the second colon of an unquoted value starts a mapping where none may start
      write('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  NATS_URL: nats://a:4222, nats://b:4222: x\n');
      kustomization('cm.yaml');
      const rendered = render(dir);
      expect(rendered.errors.join('\n')).toMatch(/mapping|yaml/i);
    });

    it('a patch that matches nothing fails the render', () => {
      write('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
      write('patch.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  X: "1"\n');
      write('kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\npatches: [{ path: patch.yaml }]\n');
      expect(render(dir).errors).not.toEqual([]);
    });

    it('an unquoted number, a wrong type and a misspelt field render, and validation rejects each', () => {
      write('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  JETSTREAM_REPLICAS: 3\n');
      const bad = deployment();
      const spec = bad.spec as { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } };
      spec.replicas = 'two';
      spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/', port: 80 } };
      write('deployment.yaml', JSON.stringify(bad));
      kustomization('cm.yaml', 'deployment.yaml');
      const rendered = render(dir);
      expect(rendered.errors).toEqual([]);
      const errors = validationErrors(rendered.objects, strict).join('\n');
      expect(errors).toMatch(/ConfigMap\/config: \/data\/JETSTREAM_REPLICAS must be string/);
      expect(errors).toMatch(/Deployment\/probe: \/spec\/replicas must be integer/);
      expect(errors).toMatch(/Deployment\/probe: spec\.template\.spec\.containers\[0\]\.readinesProbe: unknown field/);
    });

    it('custom resources: valid ones pass; a wrong type, a misspelt field and an unknown kind are rejected', () => {
      expect(validationErrors([scaledObject(), cluster()], strict)).toEqual([]);

      const wrongType = scaledObject();
      const spec = wrongType.spec as { minReplicaCount: unknown; triggers: { metadata: Record<string, unknown> }[] };
      spec.minReplicaCount = '2';
      spec.triggers[0].metadata.lagThreshold = 10; // KEDA reads trigger metadata as strings
      const misspelt = cluster();
      ((misspelt.spec as { bootstrap: { initdb: Record<string, unknown> } }).bootstrap.initdb).ownr = 'app';
      (misspelt.spec as Record<string, unknown>).instances = '3';
      const unknownKind = { ...scaledObject(), kind: 'ScaledObjekt' };

      const errors = validationErrors([wrongType, misspelt, unknownKind], strict);
      expect(errors).toEqual(
        expect.arrayContaining([
          'ScaledObject/probe: /spec/minReplicaCount must be integer {"type":"integer"}',
          'ScaledObject/probe: /spec/triggers/0/metadata/lagThreshold must be string {"type":"string"}',
          'Cluster/probe: /spec/instances must be integer {"type":"integer"}',
          'Cluster/probe: spec.bootstrap.initdb.ownr: unknown field "ownr"',
          'ScaledObjekt/probe: no custom resource schema for keda.sh/v1alpha1 ScaledObjekt',
        ]),
      );
    });
  });
});
