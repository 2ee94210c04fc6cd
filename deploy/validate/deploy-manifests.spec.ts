/**
 * Validates the deployment artefacts against each other and against the code:
 * Dockerfile, .dockerignore, docker-compose.yml, the Kubernetes base (deploy/k8s), its optional
 * development dependencies (deploy/k8s/dev-dependencies) and the kind overlay (deploy/kind).
 *
 * Offline only: Kubernetes schemas come from the `kubernetes-models` package, kustomizations are
 * rendered by ./kustomize.ts, and no docker or kubectl is needed. Each check collects every
 * violation and compares the list with [], so a failure names all offending places at once.
 * The "negative controls" feed known-bad input to each validator, proving it can fail.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { IContainer, IPodSpec, IPodTemplateSpec, IProbe, IService } from 'kubernetes-models/v1';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { schemaErrors, StrictFieldChecker, type K8sObject } from './k8s-schema';
import { probeDeployment } from './fixtures';
import { containersOf, readKustomization, readYamlDocuments, renderKustomization, type RenderResult } from './kustomize';
import { REPO_ROOT, entrySourceForCommand, envReads, envReadsOfCommand, importClosure, valueFitsAccessors, type EnvAccessor } from './source-env';
import { commandOf, dependsOn, environmentOf, interpolateWithDefaults, readCompose, type ComposeService } from './compose';

// ---------------------------------------------------------------------------------------------
// Fixed expectations
// ---------------------------------------------------------------------------------------------

const K8S_DIR = join(REPO_ROOT, 'deploy/k8s');
const DEV_DIR = join(K8S_DIR, 'dev-dependencies');
const KIND_DIR = join(REPO_ROOT, 'deploy/kind');
const SECRET_TEMPLATE = join(K8S_DIR, 'secret.template.yaml');
const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const NAMESPACE = 'letta';
/** The one image every service runs (kustomize `images` sets registry and tag). */
const APP_IMAGE = 'letta-jetstream-server';

const CORE_SERVICES = ['gateway', 'orchestrator', 'llm-worker', 'callback-dispatcher', 'projector'];
const EXPECTED_REPLICAS: Record<string, number> = { gateway: 2, orchestrator: 2, 'llm-worker': 2, 'callback-dispatcher': 2, projector: 2 };
const HPA_TARGETS = ['gateway', 'llm-worker'];
const GATEWAY_PORT = 8283;
/** Environment variables that carry credentials: only ever from a Secret in Kubernetes. */
const SECRET_VARS = ['DATABASE_URL', 'OPENAI_API_KEY', 'CALLBACK_SIGNING_SECRET'];
/** Stream provisioning parameters every service applies: must be the same everywhere. */
const SHARED_STREAM_VARS = ['NATS_URL', 'JETSTREAM_REPLICAS', 'RUN_EVENTS_MAX_AGE_MS'];
const READ_MODEL_LIB = 'libs/persistence/read-model/src/';
const JETSTREAM_LIB = 'libs/messaging/jetstream/src/';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFilesUnder(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    })
    .sort();
}

const rel = (file: string): string => relative(REPO_ROOT, file);
const idOf = (object: K8sObject): string => `${object.kind}/${object.metadata?.name}`;
const isKustomization = (doc: unknown): boolean => (doc as { kind?: unknown }).kind === 'Kustomization';

function podTemplateOf(object: K8sObject): IPodTemplateSpec | undefined {
  return (object.spec as { template?: IPodTemplateSpec } | undefined)?.template;
}

function podSpecOf(object: K8sObject): IPodSpec | undefined {
  return podTemplateOf(object)?.spec;
}

/** Init and regular containers of a workload, typed. */
function containersIn(object: K8sObject): IContainer[] {
  return containersOf(object) as unknown as IContainer[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job', 'DaemonSet']);
const workloadsOf = (objects: K8sObject[]): K8sObject[] => objects.filter((object) => WORKLOAD_KINDS.has(object.kind));

function imageName(image: string | undefined): string {
  return (image ?? '').split('@')[0].replace(/:[^:/]+$/, '');
}

function usesAppImage(container: IContainer): boolean {
  return imageName(container.image) === APP_IMAGE;
}

function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** A probe's or service's port, numeric or named, as a number via the container's ports. */
function resolvePort(port: number | string | undefined, containers: IContainer[]): number | undefined {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  for (const container of containers) {
    const match = container.ports?.find((candidate) => candidate.name === port);
    if (match) return match.containerPort;
  }
  return undefined;
}

function literalEnv(container: IContainer, name: string): string | undefined {
  return container.env?.find((entry) => entry.name === name && entry.value !== undefined)?.value;
}

/** ConfigMaps and Secrets by name: key → value. */
type KeyStore = Map<string, Map<string, string>>;

function keyStore(objects: K8sObject[], kind: 'ConfigMap' | 'Secret'): KeyStore {
  const store: KeyStore = new Map();
  for (const object of objects.filter((candidate) => candidate.kind === kind)) {
    const data = { ...((object.data as Record<string, string>) ?? {}), ...((object.stringData as Record<string, string>) ?? {}) };
    const decoded = Object.entries(data).map(([key, value]) => [key, kind === 'Secret' && object.data && key in (object.data as object) ? Buffer.from(value, 'base64').toString('utf8') : String(value)] as [string, string]);
    store.set(object.metadata.name, new Map(decoded));
  }
  return store;
}

/** The value a container sees for an env var, resolving configMapKeyRef/secretKeyRef; undefined if unknown. */
function envValue(container: IContainer, name: string, configMaps: KeyStore, secrets: KeyStore): string | undefined {
  const entry = container.env?.find((candidate) => candidate.name === name);
  if (!entry) return undefined;
  if (entry.value !== undefined) return entry.value;
  const cm = entry.valueFrom?.configMapKeyRef;
  if (cm) return configMaps.get(cm.name ?? '')?.get(cm.key);
  const secret = entry.valueFrom?.secretKeyRef;
  if (secret) return secrets.get(secret.name ?? '')?.get(secret.key);
  return undefined;
}

/** Env var names set on a container, envFrom expanded against the given stores. */
function envNames(container: IContainer, configMaps: KeyStore, secrets: KeyStore): string[] {
  const names = (container.env ?? []).map((entry) => entry.name);
  for (const source of container.envFrom ?? []) {
    const store = source.configMapRef ? configMaps.get(source.configMapRef.name ?? '') : secrets.get(source.secretRef?.name ?? '');
    for (const key of store?.keys() ?? []) names.push(`${source.prefix ?? ''}${key}`);
  }
  return names;
}

const programCache = new Map<string, ReturnType<typeof envReadsOfCommand>>();
function cachedProgram(command: unknown): ReturnType<typeof envReadsOfCommand> {
  const key = JSON.stringify(command);
  if (!programCache.has(key)) programCache.set(key, envReadsOfCommand(command));
  return programCache.get(key) ?? null;
}

const usesReadModel = (files: string[]): boolean => files.some((file) => file.startsWith(READ_MODEL_LIB));
const usesJetStream = (files: string[]): boolean => files.some((file) => file.startsWith(JETSTREAM_LIB));

// ---------------------------------------------------------------------------------------------
// Loaded once
// ---------------------------------------------------------------------------------------------

const k8sFiles = [...yamlFilesUnder(K8S_DIR), ...yamlFilesUnder(KIND_DIR)];
const parsedFiles = k8sFiles.map((file) => ({ file, ...readYamlDocuments(file) }));
const allK8sObjects = parsedFiles.flatMap(({ file, docs }) =>
  docs.filter((doc) => !isKustomization(doc)).map((doc) => ({ file, object: doc as K8sObject })),
);
/** Strategic-merge patch files are partial objects: schema-checked only after rendering. */
const patchFiles = new Set(
  [K8S_DIR, DEV_DIR, KIND_DIR].flatMap((dir) =>
    (readKustomization(dir).kustomization?.patches ?? []).flatMap((patch) => (patch.path ? [join(dir, patch.path)] : [])),
  ),
);
const completeObjects = allK8sObjects.filter(({ file }) => !patchFiles.has(file));

const base = renderKustomization(K8S_DIR);
const dev = renderKustomization(DEV_DIR);
const kind = renderKustomization(KIND_DIR);
const renders: [string, RenderResult][] = [
  ['deploy/k8s', base],
  ['deploy/k8s/dev-dependencies', dev],
  ['deploy/kind', kind],
];

const secretTemplate = readYamlDocuments(SECRET_TEMPLATE).docs as K8sObject[];
const strict = new StrictFieldChecker([...allK8sObjects.map(({ object }) => object), ...kind.objects]);

const { compose, errors: composeParseErrors } = readCompose(COMPOSE_FILE);
const composeServices = Object.entries(compose.services ?? {});
const composeAppImage = compose.services?.gateway?.image;
const composeAppServices = composeServices.filter(([, service]) => service.image !== undefined && service.image === composeAppImage);

// ---------------------------------------------------------------------------------------------
// Kubernetes: YAML and schemas
// ---------------------------------------------------------------------------------------------

describe('Kubernetes manifests: YAML and OpenAPI schemas', () => {
  it('finds the manifests', () => {
    expect(k8sFiles.map(rel)).toEqual(
      expect.arrayContaining(['deploy/k8s/kustomization.yaml', 'deploy/k8s/dev-dependencies/kustomization.yaml', 'deploy/kind/kustomization.yaml']),
    );
    expect(completeObjects.length).toBeGreaterThanOrEqual(20);
  });

  it('parses every YAML document without errors or warnings', () => {
    expect(parsedFiles.flatMap(({ errors }) => errors)).toEqual([]);
    expect(parsedFiles.filter(({ docs }) => docs.length === 0).map(({ file }) => rel(file))).toEqual([]);
  });

  it('gives every object apiVersion, kind and metadata.name', () => {
    const bad = allK8sObjects
      .filter(({ object }) => typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string')
      .map(({ file }) => rel(file));
    expect(bad).toEqual([]);
  });

  it('validates every object against the Kubernetes schema of its kind', () => {
    const errors = completeObjects.flatMap(({ file, object }) => schemaErrors(object).map((error) => `${rel(file)} ${idOf(object)}: ${error}`));
    expect(errors).toEqual([]);
  });

  it('uses no field unknown to the Kubernetes API (strict field validation)', () => {
    const errors = completeObjects.flatMap(({ file, object }) => strict.unknownFields(object).map((error) => `${rel(file)} ${idOf(object)}: ${error}`));
    expect(errors).toEqual([]);
  });

  it('validates the fully rendered overlay, patches applied', () => {
    const errors = kind.objects.flatMap((object) => [...schemaErrors(object), ...strict.unknownFields(object)].map((error) => `${idOf(object)}: ${error}`));
    expect(errors).toEqual([]);
  });

  describe('negative controls', () => {
    const deployment = probeDeployment;

    it('the schema check accepts a valid object and rejects wrong types, missing required fields and unknown kinds', () => {
      expect(schemaErrors(deployment())).toEqual([]);

      const wrongType = deployment();
      (wrongType.spec as { replicas: unknown }).replicas = 'two';
      expect(schemaErrors(wrongType).join()).toMatch(/replicas/);

      const missing = deployment();
      delete (missing.spec as { selector?: unknown }).selector;
      expect(schemaErrors(missing).join()).toMatch(/selector/);

      expect(schemaErrors({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toEqual(['no Kubernetes schema for apps/v1 Deploymnet']);
      expect(schemaErrors({ apiVersion: 'autoscaling/v3', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' } }).length).toBe(1);
    });

    it('the strict field check accepts a valid object and rejects misspelt fields at any depth', () => {
      expect(strict.unknownFields(deployment())).toEqual([]);
      const typo = deployment();
      const container = (typo.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0];
      container.readinesProbe = container.readinessProbe;
      (container.resources as Record<string, unknown>).limts = {};
      ((container.env as Record<string, Record<string, Record<string, unknown>>>[])[0].valueFrom.configMapKeyRef).nmae = 'c';
      expect(strict.unknownFields(typo).sort()).toEqual([
        'spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.nmae: unknown field "nmae"',
        'spec.template.spec.containers[0].readinesProbe: unknown field "readinesProbe"',
        'spec.template.spec.containers[0].resources.limts: unknown field "limts"',
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Kustomize
// ---------------------------------------------------------------------------------------------

describe('kustomizations', () => {
  it.each(renders)('%s renders without errors', (_name, render) => {
    expect(render.errors).toEqual([]);
    expect(render.objects.length).toBeGreaterThan(0);
  });

  it('references every manifest file (no orphans); the Secret template is the only exception', () => {
    const used = new Set([...base.files, ...dev.files, ...kind.files]);
    const orphans = k8sFiles.filter((file) => !used.has(file) && file !== SECRET_TEMPLATE).map(rel);
    expect(orphans).toEqual([]);
    expect(used.has(SECRET_TEMPLATE)).toBe(false);
  });

  it('keeps NATS, Postgres and Secrets out of the production base', () => {
    const kinds = base.objects.map((object) => object.kind);
    expect(kinds).not.toContain('StatefulSet');
    expect(kinds).not.toContain('Secret');
    expect(kinds).not.toContain('PersistentVolumeClaim');
    expect(base.files.filter((file) => file.startsWith(`${DEV_DIR}/`)).map(rel)).toEqual([]);
  });

  it('puts everything in the letta namespace, which the base creates', () => {
    expect(readKustomization(K8S_DIR).kustomization?.namespace).toBe(NAMESPACE);
    for (const [name, render] of renders) {
      const outside = render.objects.filter((object) => object.kind !== 'Namespace' && object.metadata.namespace !== NAMESPACE).map(idOf);
      expect({ name, outside }).toEqual({ name, outside: [] });
    }
    const namespaces = base.objects.filter((object) => object.kind === 'Namespace');
    expect(namespaces.map((object) => object.metadata.name)).toEqual([NAMESPACE]);
    expect(dev.objects.filter((object) => object.kind === 'Namespace')).toEqual([]); // kind combines both: one Namespace
  });

  it('sets a tag for the app image in every kustomization that deploys it', () => {
    for (const [name, render] of renders) {
      const untagged = workloadsOf(render.objects)
        .flatMap(containersIn)
        .filter((container) => usesAppImage(container) && !/:[^:/]+$/.test(container.image ?? ''))
        .map((container) => container.name);
      expect({ name, untagged }).toEqual({ name, untagged: [] });
    }
  });

  it('applies the kind overlay patch (single NATS server, fake model)', () => {
    const config = keyStore(kind.objects, 'ConfigMap').get('letta-config');
    expect(config?.get('JETSTREAM_REPLICAS')).toBe('1');
    expect(config?.get('OPENAI_BASE_URL')).toBe('http://fake-model:8399/v1');
    expect(kind.objects.some((object) => object.kind === 'Service' && object.metadata.name === 'fake-model')).toBe(true);
  });

  describe('negative controls', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'kustomize-check-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);

    it('reports missing resources, unsupported fields, duplicate ids and unmatched images', () => {
      write('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
      write(
        'kustomization.yaml',
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources: [cm.yaml, cm.yaml, missing.yaml]',
          'configMapGenerator: []',
          'images: [{ name: nothing-uses-this, newTag: "1" }]',
        ].join('\n'),
      );
      const errors = renderKustomization(dir).errors.join('\n');
      expect(errors).toMatch(/duplicate entries in resources/);
      expect(errors).toMatch(/"missing.yaml" does not exist/);
      expect(errors).toMatch(/"configMapGenerator" is not supported/);
      expect(errors).toMatch(/defined twice/);
      expect(errors).toMatch(/matches no container image/);
    });

    it('reports a patch that matches nothing', () => {
      write('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
      write('patch.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  X: "1"\n');
      write('kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\npatches: [{ path: patch.yaml }]\n');
      expect(renderKustomization(dir).errors.join()).toMatch(/matches 0 resources/);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

describe('Kubernetes workloads', () => {
  const baseDeployments = base.objects.filter((object) => object.kind === 'Deployment') as unknown as (K8sObject & IDeployment)[];
  const everyWorkload = [...workloadsOf(base.objects), ...workloadsOf(dev.objects)];

  it('has a Deployment per service with the intended replica count', () => {
    expect(baseDeployments.map((d) => d.metadata.name).sort()).toEqual([...CORE_SERVICES].sort());
    for (const deployment of baseDeployments) {
      expect({ name: deployment.metadata?.name, replicas: deployment.spec?.replicas }).toEqual({
        name: deployment.metadata?.name,
        replicas: EXPECTED_REPLICAS[deployment.metadata?.name ?? ''],
      });
    }
  });

  it('gives every container an image, and every app-image container a command that builds from source', () => {
    const problems: string[] = [];
    for (const workload of everyWorkload) {
      for (const container of containersIn(workload)) {
        const where = `${idOf(workload)} container ${container.name}`;
        if (!container.image) problems.push(`${where}: no image`);
        if (!usesAppImage(container)) continue;
        const entry = entrySourceForCommand(container.command);
        if (!entry) problems.push(`${where}: command ${JSON.stringify(container.command)} is not "node dist/<apps|tools>/<name>/src/main.js"`);
        else if (!existsSync(join(REPO_ROOT, entry))) problems.push(`${where}: ${entry} does not exist`);
      }
    }
    expect(problems).toEqual([]);
    // each core Deployment runs its own app
    for (const deployment of baseDeployments) {
      const [container] = containersIn(deployment);
      expect(entrySourceForCommand(container.command)).toBe(`apps/${deployment.metadata?.name}/src/main.ts`);
    }
  });

  it('gives every long-running container liveness and readiness probes', () => {
    const problems: string[] = [];
    for (const workload of everyWorkload.filter((object) => object.kind !== 'Job')) {
      for (const container of podSpecOf(workload)?.containers ?? []) {
        for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
          const spec = container[probe] as IProbe | undefined;
          if (!spec || !(spec.httpGet || spec.exec || spec.tcpSocket || spec.grpc)) problems.push(`${idOf(workload)} ${container.name}: no ${probe}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('probes the health endpoint each program serves, on the port it listens on', () => {
    const problems: string[] = [];
    for (const workload of everyWorkload.filter((object) => object.kind !== 'Job')) {
      const containers = podSpecOf(workload)?.containers ?? [];
      for (const container of containers.filter(usesAppImage)) {
        const entry = entrySourceForCommand(container.command);
        let port: number | undefined;
        // Liveness and start-up ask whether the process answers, readiness whether its dependencies do.
        let paths = { livenessProbe: '/livez', readinessProbe: '/readyz', startupProbe: '/livez' };
        if (entry === 'apps/gateway/src/main.ts') port = Number(literalEnv(container, 'PORT') ?? GATEWAY_PORT);
        else if (entry === 'apps/fake-model/src/main.ts') {
          port = Number(literalEnv(container, 'PORT') ?? 8399);
          paths = { livenessProbe: '/health', readinessProbe: '/health', startupProbe: '/health' };
        } else {
          const healthPort = literalEnv(container, 'HEALTH_PORT');
          if (!healthPort) problems.push(`${idOf(workload)}: HEALTH_PORT is not set, so the probes are not served`);
          port = healthPort ? Number(healthPort) : undefined;
        }
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
          const spec = container[probe];
          if (!spec) continue;
          const expected = { path: paths[probe], port };
          const actual = { path: spec.httpGet?.path, port: resolvePort(spec.httpGet?.port, containers) };
          if (actual.path !== expected.path || actual.port !== expected.port) {
            problems.push(`${idOf(workload)} ${probe}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('sets CPU and memory requests and limits on every container', () => {
    const problems: string[] = [];
    for (const workload of everyWorkload) {
      for (const container of containersIn(workload)) {
        for (const bound of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory']) {
            if (container.resources?.[bound]?.[resource] === undefined) problems.push(`${idOf(workload)} ${container.name}: no ${bound}.${resource}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('meets the restricted Pod Security Standard the namespace enforces', () => {
    const namespace = base.objects.find((object) => object.kind === 'Namespace');
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const problems: string[] = [];
    for (const workload of everyWorkload) {
      const pod = podSpecOf(workload);
      const where = idOf(workload);
      if (!pod) {
        problems.push(`${where}: no pod template`);
        continue;
      }
      if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: shares a host namespace`);
      for (const volume of pod.volumes ?? []) {
        if (!(volume.emptyDir || volume.configMap || volume.secret || volume.persistentVolumeClaim || volume.projected || volume.downwardAPI || volume.ephemeral)) {
          problems.push(`${where}: volume ${volume.name} has a type the restricted profile forbids`);
        }
      }
      for (const container of containersIn(workload)) {
        const ctx = container.securityContext;
        const at = `${where} ${container.name}`;
        if (!ctx) {
          problems.push(`${at}: no securityContext`);
          continue;
        }
        if ((ctx.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot is not true`);
        const uid = ctx.runAsUser ?? pod.securityContext?.runAsUser;
        // the image's USER is the name "node"; the kubelet can only verify non-root with a numeric uid
        if (uid === undefined || uid === 0) problems.push(`${at}: runAsUser must be a non-zero uid`);
        if (ctx.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
        if (ctx.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
        if (ctx.privileged) problems.push(`${at}: privileged`);
        if (!ctx.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities do not drop ALL`);
        if (ctx.capabilities?.add?.length) problems.push(`${at}: adds capabilities`);
        const seccomp = ctx.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
        if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${at}: seccompProfile is not RuntimeDefault`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('selects its own pods, spreads replicas across nodes and zones, and drains gracefully', () => {
    const problems: string[] = [];
    for (const workload of everyWorkload.filter((object) => object.kind !== 'Job')) {
      const selector = (workload.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels;
      if (!selectorMatches(selector, podTemplateOf(workload)?.metadata?.labels)) problems.push(`${idOf(workload)}: selector does not match the pod labels`);
    }
    for (const deployment of baseDeployments) {
      const pod = podSpecOf(deployment);
      const labels = podTemplateOf(deployment)?.metadata?.labels;
      const spread = (pod?.topologySpreadConstraints ?? []).filter((constraint) => selectorMatches(constraint.labelSelector?.matchLabels, labels));
      const antiAffinity = [
        ...(pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((term) => term.podAffinityTerm),
        ...(pod?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ].filter((term) => selectorMatches(term.labelSelector?.matchLabels, labels));
      if (spread.length === 0 && antiAffinity.length === 0) problems.push(`${idOf(deployment)}: no topology spread or pod anti-affinity over its own pods`);
      if (spread.length > 0 && !spread.some((constraint) => constraint.topologyKey === 'kubernetes.io/hostname')) problems.push(`${idOf(deployment)}: does not spread across nodes`);
      if (deployment.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0) problems.push(`${idOf(deployment)}: rolling updates may drop below the replica count`);
    }
    expect(problems).toEqual([]);
    const worker = baseDeployments.find((deployment) => deployment.metadata?.name === 'llm-worker');
    expect(podSpecOf(worker as K8sObject)?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
  });

  it('runs the read-model migration as a Job of the migrate tool, ordered before the rollout', () => {
    const jobs = base.objects.filter((object) => object.kind === 'Job') as unknown as (K8sObject & IJob)[];
    expect(jobs.map((job) => job.metadata?.name)).toEqual(['migrate']);
    const [job] = jobs;
    const [container] = job.spec?.template.spec?.containers ?? [];
    expect(entrySourceForCommand(container?.command)).toBe('tools/migrate/src/main.ts');
    expect(['Never', 'OnFailure']).toContain(job.spec?.template.spec?.restartPolicy);
    expect(job.spec?.backoffLimit).toBeGreaterThan(0);
    // finished Jobs are removed so the next apply, with a new image, can create it again
    expect(job.spec?.ttlSecondsAfterFinished).toBeGreaterThan(0);
    // Argo CD runs it before syncing anything else; kubectl users follow the README's order
    expect(job.metadata?.annotations?.['argocd.argoproj.io/hook']).toBe('PreSync');
    const readme = readFileSync(join(K8S_DIR, 'README.md'), 'utf8');
    expect(readme).toMatch(/kubectl -n letta wait --for=condition=complete job\/migrate/);
    // a PreSync hook runs before the ConfigMap is applied: it may only read the pre-existing Secret
    const configRefs = (container?.env ?? []).filter((entry) => entry.valueFrom?.configMapKeyRef);
    expect(configRefs).toEqual([]);
  });

  it('exposes the gateway through a ClusterIP Service on 8283, and every Service reaches a named container port', () => {
    const services = [...base.objects, ...dev.objects].filter((object) => object.kind === 'Service') as unknown as (K8sObject & IService)[];
    const gateway = services.find((service) => service.metadata?.name === 'gateway');
    expect(gateway?.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(gateway?.spec?.ports?.map((port) => port.port)).toEqual([GATEWAY_PORT]);
    const problems: string[] = [];
    const workloads = [...workloadsOf(base.objects), ...workloadsOf(dev.objects)].filter((object) => object.kind !== 'Job');
    for (const service of services) {
      const targets = workloads.filter((workload) => selectorMatches(service.spec?.selector, podTemplateOf(workload)?.metadata?.labels));
      if (targets.length !== 1) {
        problems.push(`Service/${service.metadata?.name} selects ${targets.length} workloads`);
        continue;
      }
      const containers = podSpecOf(targets[0])?.containers ?? [];
      for (const port of service.spec?.ports ?? []) {
        const target = resolvePort(port.targetPort ?? port.port, containers);
        if (!containers.some((container) => container.ports?.some((candidate) => candidate.containerPort === target))) {
          problems.push(`Service/${service.metadata?.name} port ${port.port}: target ${String(port.targetPort)} is no container port`);
        }
      }
    }
    for (const statefulSet of dev.objects.filter((object) => object.kind === 'StatefulSet') as unknown as (K8sObject & IStatefulSet)[]) {
      const governing = services.find((service) => service.metadata?.name === statefulSet.spec?.serviceName);
      if (!governing) problems.push(`StatefulSet/${statefulSet.metadata?.name}: serviceName has no Service`);
      if (!statefulSet.spec?.volumeClaimTemplates?.length) problems.push(`StatefulSet/${statefulSet.metadata?.name}: no PersistentVolumeClaim template`);
      if (statefulSet.spec?.replicas !== 1) problems.push(`StatefulSet/${statefulSet.metadata?.name}: dev dependencies are single-replica`);
    }
    expect(problems).toEqual([]);
    expect(dev.objects.filter((object) => object.kind === 'StatefulSet').map((object) => object.metadata.name).sort()).toEqual(['nats', 'postgres']);
  });

  it('autoscales the gateway and the LLM worker with autoscaling/v2 HPAs aimed at existing Deployments', () => {
    const hpas = base.objects.filter((object) => object.kind === 'HorizontalPodAutoscaler') as unknown as (K8sObject & IHorizontalPodAutoscaler)[];
    expect(hpas.map((hpa) => hpa.spec?.scaleTargetRef.name).sort()).toEqual(HPA_TARGETS);
    for (const hpa of hpas) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      const target = baseDeployments.find((deployment) => deployment.metadata?.name === hpa.spec?.scaleTargetRef.name);
      expect(hpa.spec?.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
      expect(target).toBeDefined();
      expect(hpa.spec?.minReplicas).toBe(target?.spec?.replicas);
      expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 0);
      expect(hpa.spec?.metrics?.length).toBeGreaterThan(0);
    }
  });

  it('protects every Deployment with a PodDisruptionBudget that leaves a pod running', () => {
    const pdbs = base.objects.filter((object) => object.kind === 'PodDisruptionBudget') as unknown as (K8sObject & IPodDisruptionBudget)[];
    const problems: string[] = [];
    for (const deployment of baseDeployments) {
      const labels = deployment.spec?.template.metadata?.labels;
      const matching = pdbs.filter((pdb) => selectorMatches(pdb.spec?.selector?.matchLabels, labels));
      if (matching.length !== 1) {
        problems.push(`${idOf(deployment)}: ${matching.length} PodDisruptionBudgets`);
        continue;
      }
      const { maxUnavailable, minAvailable } = matching[0].spec ?? {};
      const replicas = deployment.spec?.replicas ?? 1;
      const ok = (typeof maxUnavailable === 'number' && maxUnavailable < replicas) || (typeof minAvailable === 'number' && minAvailable >= 1 && minAvailable < replicas);
      if (!ok) problems.push(`${idOf(deployment)}: PDB ${JSON.stringify(matching[0].spec)} either blocks drains or allows zero pods`);
    }
    for (const pdb of pdbs) {
      if (!baseDeployments.some((deployment) => selectorMatches(pdb.spec?.selector?.matchLabels, deployment.spec?.template.metadata?.labels))) {
        problems.push(`${idOf(pdb)}: selects no Deployment`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('asks the scheduler to put each Deployment\'s replicas on different nodes', () => {
    const unspread = baseDeployments.filter((deployment) => {
      const labels = deployment.spec?.template.metadata?.labels;
      const terms = deployment.spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      return !terms.some((term) => term.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' && selectorMatches(term.podAffinityTerm.labelSelector?.matchLabels, labels));
    });
    expect(unspread.map(idOf)).toEqual([]);
  });

  it('gives the gateway a grace period longer than its preStop pause plus its drain', () => {
    const gateway = baseDeployments.find((deployment) => deployment.metadata?.name === 'gateway')!;
    const container = containersIn(gateway as K8sObject).find((candidate) => candidate.name === 'gateway')!;
    const pause = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
    const drainS = Number(literalEnv(container, 'DRAIN_TIMEOUT_MS') ?? 10_000) / 1000;
    expect(pause).toBeGreaterThan(0);
    expect(gateway.spec?.template.spec?.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(pause + drainS);
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration: ConfigMap, Secret and the variables the code reads
// ---------------------------------------------------------------------------------------------

describe('Kubernetes configuration', () => {
  const baseConfigMaps = keyStore(base.objects, 'ConfigMap');
  /** The base ships no Secret: the template documents the one operators create. */
  const baseSecrets = keyStore(secretTemplate, 'Secret');
  const contexts: [string, RenderResult, KeyStore, KeyStore][] = [
    ['deploy/k8s', base, baseConfigMaps, baseSecrets],
    ['deploy/k8s/dev-dependencies', dev, keyStore(dev.objects, 'ConfigMap'), keyStore(dev.objects, 'Secret')],
    ['deploy/kind', kind, keyStore(kind.objects, 'ConfigMap'), keyStore(kind.objects, 'Secret')],
  ];

  it('resolves every configMapKeyRef, secretKeyRef and envFrom to an existing key', () => {
    const problems: string[] = [];
    let references = 0;
    for (const [name, render, configMaps, secrets] of contexts) {
      for (const workload of workloadsOf(render.objects)) {
        for (const container of containersIn(workload)) {
          for (const entry of container.env ?? []) {
            const ref = entry.valueFrom?.configMapKeyRef ?? entry.valueFrom?.secretKeyRef;
            if (!ref) continue;
            references++;
            const store = entry.valueFrom?.configMapKeyRef ? configMaps : secrets;
            if (!ref.optional && !store.get(ref.name ?? '')?.has(ref.key)) problems.push(`${name} ${idOf(workload)} ${entry.name}: ${ref.name}/${ref.key} does not exist`);
          }
          for (const source of container.envFrom ?? []) {
            references++;
            const ref = source.configMapRef ?? source.secretRef;
            const store = source.configMapRef ? configMaps : secrets;
            if (!ref?.optional && !store.has(ref?.name ?? '')) problems.push(`${name} ${idOf(workload)}: envFrom ${ref?.name} does not exist`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(references).toBeGreaterThan(0);
  });

  it('ships the Secret only as a clearly marked template, with the keys the dev Secret also has', () => {
    expect(secretTemplate).toHaveLength(1);
    const [template] = secretTemplate;
    expect(template.metadata.name).toBe('letta-secrets');
    const values = Object.values(template.stringData as Record<string, string>);
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const value of values) expect(value).toMatch(/REPLACE_ME/);
    expect(readFileSync(SECRET_TEMPLATE, 'utf8')).toMatch(/TEMPLATE ONLY/);
    expect(Object.keys(template.stringData as object).sort()).toEqual(expect.arrayContaining(['callback-signing-secret', 'openai-api-key']));
    const devSecret = keyStore(dev.objects, 'Secret').get('letta-secrets');
    expect([...(devSecret?.keys() ?? [])].sort()).toEqual(Object.keys(template.stringData as object).sort());
  });

  it('sets only variables the program in the container reads, with values it accepts', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [name, render, configMaps, secrets] of contexts) {
      for (const workload of workloadsOf(render.objects)) {
        for (const container of containersIn(workload).filter(usesAppImage)) {
          const program = cachedProgram(container.command);
          if (!program) {
            problems.push(`${name} ${idOf(workload)}: command is not one of this repository's programs`);
            continue;
          }
          for (const variable of envNames(container, configMaps, secrets)) {
            checked++;
            const accessors = program.reads.get(variable);
            if (!accessors) {
              problems.push(`${name} ${idOf(workload)}: ${variable} is not read by ${program.entry} or anything it imports`);
              continue;
            }
            const value = envValue(container, variable, configMaps, secrets);
            if (value !== undefined && !valueFitsAccessors(value, accessors)) problems.push(`${name} ${idOf(workload)}: ${variable}="${value}" is not a valid ${[...accessors].join('/')}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('connects every service to NATS, and every Postgres user to the database, from the shared settings', () => {
    const problems: string[] = [];
    for (const workload of workloadsOf(base.objects)) {
      for (const container of containersIn(workload).filter(usesAppImage)) {
        const program = cachedProgram(container.command);
        if (!program) continue;
        const names = envNames(container, baseConfigMaps, baseSecrets);
        if (usesJetStream(program.files)) {
          for (const variable of SHARED_STREAM_VARS) {
            const ref = container.env?.find((entry) => entry.name === variable)?.valueFrom?.configMapKeyRef;
            if (!ref || ref.name !== 'letta-config' || ref.key !== variable) problems.push(`${idOf(workload)}: ${variable} must come from letta-config/${variable} like every other service's`);
          }
        }
        if (usesReadModel(program.files) && !names.includes('DATABASE_URL')) problems.push(`${idOf(workload)}: uses the read model but has no DATABASE_URL`);
        if (!usesReadModel(program.files) && names.includes('DATABASE_URL')) problems.push(`${idOf(workload)}: gets database credentials it never uses`);
        for (const variable of SECRET_VARS.filter((secret) => names.includes(secret))) {
          if (!container.env?.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef) problems.push(`${idOf(workload)}: ${variable} must come from a Secret`);
        }
      }
    }
    expect(problems).toEqual([]);
    // all five services talk to NATS; the four read-model users need Postgres
    const programs = CORE_SERVICES.map((service) => cachedProgram(['node', `dist/apps/${service}/src/main.js`]));
    expect(programs.every((program) => program !== null && usesJetStream(program.files))).toBe(true);
  });

  it('keeps no dead ConfigMap keys and keeps the SSRF guard on', () => {
    const config = baseConfigMaps.get('letta-config');
    expect(config).toBeDefined();
    const referenced = new Set(
      workloadsOf(base.objects)
        .flatMap(containersIn)
        .flatMap((container) => container.env ?? [])
        .flatMap((entry) => (entry.valueFrom?.configMapKeyRef ? [entry.valueFrom.configMapKeyRef.key] : [])),
    );
    expect([...(config?.keys() ?? [])].filter((key) => !referenced.has(key))).toEqual([]);
    expect(config?.get('CALLBACK_ALLOW_PRIVATE_NETWORKS')).toBe('false');
    const values = [...(config?.values() ?? [])].join('\n');
    expect(values).not.toMatch(/password|sk-|REPLACE_ME/i);
  });

  describe('negative controls', () => {
    it('the source scan finds the env reads of a program and ignores unrelated variables', () => {
      const gateway = cachedProgram(['node', 'dist/apps/gateway/src/main.js']);
      expect(gateway?.reads.get('PORT')).toEqual(new Set<EnvAccessor>(['int']));
      expect(gateway?.reads.has('NATS_URL')).toBe(true); // reached through @lrs/config
      expect(gateway?.reads.has('OPENAI_API_KEY')).toBe(false); // the worker's, not the gateway's
      expect(gateway?.reads.has('NOT_A_VARIABLE')).toBe(false);
      expect(cachedProgram(['node', 'dist/apps/no-such-app/src/main.js'])).toBeNull();
      expect(cachedProgram(['npm', 'start'])).toBeNull();
      expect(importClosure('apps/orchestrator/src/main.ts').some((file) => file.includes(READ_MODEL_LIB))).toBe(false);
    });

    it('value checks reject what the Env helpers reject', () => {
      const scratch = join(mkdtempSync(join(tmpdir(), 'env-scan-')), 'x.ts');
      writeFileSync(scratch, "env.int('A_NUMBER', 1); env.bool('A_FLAG', false); process.env.RAW; process.env['BRACKETED'];");
      const reads = envReads([scratch]);
      rmSync(scratch);
      expect([...reads.keys()].sort()).toEqual(['A_FLAG', 'A_NUMBER', 'BRACKETED', 'RAW']);
      expect(valueFitsAccessors('12', reads.get('A_NUMBER') as Set<EnvAccessor>)).toBe(true);
      expect(valueFitsAccessors('12ms', reads.get('A_NUMBER') as Set<EnvAccessor>)).toBe(false);
      expect(valueFitsAccessors('maybe', reads.get('A_FLAG') as Set<EnvAccessor>)).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const service = (name: string): ComposeService => compose.services[name];
  const envOf = (name: string): Map<string, string> => environmentOf(service(name));
  const programs = new Map(composeAppServices.map(([name, svc]) => [name, cachedProgram(commandOf(svc))]));

  it('parses, with the expected services', () => {
    expect(composeParseErrors).toEqual([]);
    expect(Object.keys(compose.services).sort()).toEqual(['nats', 'postgres', 'migrate', ...CORE_SERVICES, 'fake-model'].sort());
    expect(composeAppServices.map(([name]) => name).sort()).toEqual(['migrate', ...CORE_SERVICES, 'fake-model'].sort());
    expect(service('nats').image).toBe('nats:2.10-alpine');
    expect(service('postgres').image).toBe('postgres:16-alpine');
  });

  it('builds the one image from ./Dockerfile and runs each program from its compiled entry point', () => {
    const problems: string[] = [];
    for (const [name, svc] of composeAppServices) {
      const entry = entrySourceForCommand(commandOf(svc));
      const expected = name === 'migrate' ? 'tools/migrate/src/main.ts' : `apps/${name}/src/main.ts`;
      if (entry !== expected) problems.push(`${name}: command ${JSON.stringify(svc.command)} should run the build of ${expected}`);
      else if (!existsSync(join(REPO_ROOT, entry))) problems.push(`${name}: ${entry} does not exist`);
      if (!svc.build) problems.push(`${name}: no build section`);
    }
    expect(problems).toEqual([]);
    expect(imageName(interpolateWithDefaults(composeAppImage ?? '').value)).toBe(APP_IMAGE);
  });

  it('sets only variables the program reads, with defaults it accepts', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [name, svc] of composeAppServices) {
      const program = programs.get(name);
      if (!program) {
        problems.push(`${name}: not one of this repository's programs`);
        continue;
      }
      for (const [variable, raw] of environmentOf(svc)) {
        checked++;
        const accessors = program.reads.get(variable);
        if (!accessors) {
          problems.push(`${name}: ${variable} is not read by ${program.entry} or anything it imports`);
          continue;
        }
        const { value, error } = interpolateWithDefaults(raw);
        if (error) problems.push(`${name}: ${variable}: ${error}`);
        else if (!valueFitsAccessors(value, accessors)) problems.push(`${name}: ${variable} defaults to "${value}", not a valid ${[...accessors].join('/')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('sets NATS_URL and DATABASE_URL for every service, pointing at the compose nats and postgres', () => {
    const problems: string[] = [];
    for (const name of CORE_SERVICES) {
      const env = envOf(name);
      for (const variable of ['NATS_URL', 'DATABASE_URL']) if (!env.has(variable)) problems.push(`${name}: ${variable} not set`);
    }
    for (const [name] of composeAppServices) {
      const env = envOf(name);
      if (env.has('NATS_URL') && new URL(interpolateWithDefaults(env.get('NATS_URL') as string).value).hostname !== 'nats') problems.push(`${name}: NATS_URL is not the nats service`);
      if (env.has('DATABASE_URL')) {
        const url = new URL(interpolateWithDefaults(env.get('DATABASE_URL') as string).value);
        if (url.hostname !== 'postgres' || url.pathname !== '/letta') problems.push(`${name}: DATABASE_URL is not the letta database of the postgres service`);
      }
    }
    // every service provisions the streams: the parameters must agree
    for (const variable of SHARED_STREAM_VARS) {
      const values = CORE_SERVICES.map((core) => envOf(core).get(variable));
      if (new Set(values).size !== 1 || values[0] === undefined) problems.push(`${variable} differs between services: ${JSON.stringify(values)}`);
    }
    if (!envOf('migrate').has('DATABASE_URL')) problems.push('migrate: DATABASE_URL not set');
    expect(problems).toEqual([]);
    expect(service('postgres').environment).toMatchObject({ POSTGRES_DB: 'letta' });
  });

  it('orders start-up: postgres healthy → migrate completed → Postgres users; nats healthy → every NATS user', () => {
    const problems: string[] = [];
    const names = new Set(Object.keys(compose.services));
    for (const [name, svc] of composeServices) {
      for (const [dependency, condition] of dependsOn(svc)) {
        if (!names.has(dependency)) problems.push(`${name}: depends on unknown service ${dependency}`);
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) problems.push(`${name}: unknown condition ${condition}`);
        if (condition === 'service_healthy' && !compose.services[dependency]?.healthcheck?.test) problems.push(`${name}: waits for ${dependency} to be healthy, which has no healthcheck`);
      }
    }
    if (dependsOn(service('migrate')).get('postgres') !== 'service_healthy') problems.push('migrate: must wait for postgres to be healthy');
    for (const [name] of composeAppServices.filter(([candidate]) => candidate !== 'migrate')) {
      const program = programs.get(name);
      if (!program) continue;
      const deps = dependsOn(service(name));
      if (usesReadModel(program.files) && deps.get('migrate') !== 'service_completed_successfully') problems.push(`${name}: uses Postgres but does not wait for migrate to complete successfully`);
      if (usesJetStream(program.files) && deps.get('nats') !== 'service_healthy') problems.push(`${name}: uses NATS but does not wait for nats to be healthy`);
    }
    // the Postgres users: the callback-dispatcher builds its payload from the run's events alone
    for (const name of ['gateway', 'llm-worker', 'projector']) {
      if (!usesReadModel(programs.get(name)?.files ?? [])) problems.push(`${name}: expected to use the read model`);
    }
    // no cycles
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) {
        problems.push(`depends_on cycle: ${[...path, name].join(' → ')}`);
        return;
      }
      visiting.add(name);
      for (const dependency of dependsOn(compose.services[name] ?? {}).keys()) visit(dependency, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of names) visit(name, []);
    expect(problems).toEqual([]);
  });

  it('health-checks every long-running service on the endpoint its program serves', () => {
    const problems: string[] = [];
    for (const [name, svc] of composeServices.filter(([candidate]) => candidate !== 'migrate')) {
      const test = svc.healthcheck?.test;
      if (!test || svc.healthcheck?.disable) {
        problems.push(`${name}: no healthcheck`);
        continue;
      }
      const text = Array.isArray(test) ? test.join(' ') : test;
      if (Array.isArray(test) && !['CMD', 'CMD-SHELL'].includes(test[0])) problems.push(`${name}: healthcheck test must start with CMD or CMD-SHELL`);
      const program = programs.get(name);
      if (!program) continue;
      const env = envOf(name);
      const expected =
        program.entry === 'apps/gateway/src/main.ts'
          ? `:${env.get('PORT') ?? GATEWAY_PORT}/v1/health`
          : program.entry === 'apps/fake-model/src/main.ts'
            ? `:${env.get('PORT') ?? 8399}/health`
            : `:${env.get('HEALTH_PORT') ?? '(HEALTH_PORT unset)'}/healthz`;
      if (!text.includes(expected)) problems.push(`${name}: healthcheck does not probe ${expected}`);
    }
    expect(problems).toEqual([]);
    expect(service('nats').healthcheck?.test).toEqual(expect.arrayContaining([expect.stringMatching(/:8222\/healthz/)]));
    expect(JSON.stringify(service('postgres').healthcheck?.test)).toMatch(/pg_isready/);
  });

  it('restarts long-running services, runs migrate once, publishes the gateway and binds the fake model publicly', () => {
    const problems: string[] = [];
    for (const [name, svc] of composeServices) {
      if (name === 'migrate') {
        if (svc.restart !== 'no' && svc.restart !== 'on-failure') problems.push('migrate: a one-shot must not restart unconditionally');
      } else if (!['always', 'unless-stopped', 'on-failure'].includes(svc.restart ?? '')) {
        problems.push(`${name}: no restart policy`);
      }
    }
    expect(problems).toEqual([]);
    const published = (service('gateway').ports ?? []).map((port) => (typeof port === 'string' ? interpolateWithDefaults(port).value : `${port.published}:${port.target}`));
    expect(published).toContain(`${GATEWAY_PORT}:${GATEWAY_PORT}`);
    expect(envOf('fake-model').get('HOST')).toBe('0.0.0.0'); // its default, 127.0.0.1, is unreachable from other containers
    expect(service('llm-worker').stop_grace_period).toBe('60s');
  });

  it('defaults the LLM worker to the fake model and keeps the SSRF guard on', () => {
    expect(envOf('llm-worker').get('OPENAI_BASE_URL')).toBe('${OPENAI_BASE_URL:-http://fake-model:8399/v1}');
    expect(envOf('llm-worker').get('OPENAI_API_KEY')).toBe('${OPENAI_API_KEY:-fake}');
    expect(envOf('callback-dispatcher').get('CALLBACK_ALLOW_PRIVATE_NETWORKS')).toBe('${CALLBACK_ALLOW_PRIVATE_NETWORKS:-false}');
    const fakeModel = new URL(interpolateWithDefaults(envOf('llm-worker').get('OPENAI_BASE_URL') as string).value);
    expect(fakeModel.hostname).toBe('fake-model');
    expect(fakeModel.port).toBe(envOf('fake-model').get('PORT'));
  });

  it('runs NATS with JetStream and monitoring on a volume, and Postgres on a volume', () => {
    const command = commandOf(service('nats')) ?? [];
    expect(command).toEqual(expect.arrayContaining(['-js', '-m', '8222']));
    expect(command[command.indexOf('-sd') + 1]).toBe('/data');
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const mounts = (name: string): string[] =>
      (service(name).volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`));
    expect(mounts('nats').some((mount) => mount.endsWith(':/data') && declared.has(mount.split(':')[0]))).toBe(true);
    expect(mounts('postgres').some((mount) => mount.endsWith(':/var/lib/postgresql/data') && declared.has(mount.split(':')[0]))).toBe(true);
  });

  describe('negative controls', () => {
    it('interpolation yields defaults, and flags forms it cannot evaluate', () => {
      expect(interpolateWithDefaults('${A:-x}/${B-y}/${C}/$D/$$')).toEqual({ value: 'x/y///$', error: undefined });
      expect(interpolateWithDefaults('${A:?required}').error).toMatch(/unsupported/);
    });

    it('a service without a compiled entry point is not taken for a program', () => {
      expect(entrySourceForCommand(['node', 'dist/apps/gateway/src/main.ts'])).toBeNull();
      expect(entrySourceForCommand('node dist/apps/gateway/src/main.js')).toBeNull();
      expect(entrySourceForCommand(['node', 'dist/apps/gateway/src/main.js'])).toBe('apps/gateway/src/main.ts');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore
// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const args = new Map(instructions.filter((line) => /^ARG\s+\w+=/.test(line)).map((line) => line.replace(/^ARG\s+/, '').split('=') as [string, string]));
  const expand = (text: string): string => text.replace(/\$\{?(\w+)\}?/g, (match, name: string) => args.get(name) ?? match);
  const stages: { from: string; name?: string; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: expand(from[1]), name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const final = stages.at(-1);

  it('is multi-stage on node:22-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((stage) => stage.from).every((image) => image === 'node:22-bookworm-slim' || stages.some((stage) => stage.name === image))).toBe(true);
  });

  it('builds with npm ci and npm run build, and ships production dependencies only', () => {
    const build = stages.find((stage) => stage.lines.some((line) => /^RUN\b.*npm run build/.test(line)));
    expect(build?.lines.some((line) => /^RUN\b.*npm ci\b/.test(line) && !line.includes('--omit=dev'))).toBe(true);
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.build).toBeDefined();
    const prodStage = stages.find((stage) => stage.lines.some((line) => /^RUN\b.*npm ci\b.*--omit=dev/.test(line)));
    expect(prodStage).toBeDefined();
    const copies = final?.lines.filter((line) => line.startsWith('COPY')) ?? [];
    expect(copies.some((line) => line.includes(`--from=${prodStage?.name}`) && line.includes('node_modules'))).toBe(true);
    expect(copies.some((line) => line.includes(`--from=${build?.name}`) && /\/dist\b/.test(line))).toBe(true);
    expect(copies.some((line) => /^COPY\s+package\.json\s/.test(line))).toBe(true);
    expect(final?.lines.some((line) => /^RUN\b.*npm ci\b(?!.*--omit=dev)/.test(line))).toBe(false);
  });

  it('runs as the non-root node user with NODE_ENV=production and the gateway by default', () => {
    expect(final?.lines.filter((line) => line.startsWith('USER'))).toEqual(['USER node']);
    expect(final?.lines).toContain('ENV NODE_ENV=production');
    const cmd = final?.lines.find((line) => line.startsWith('CMD'));
    const command = JSON.parse((cmd ?? 'CMD null').slice(3)) as unknown;
    expect(entrySourceForCommand(command)).toBe('apps/gateway/src/main.ts');
  });

  it('keeps local state out of the build context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/\/$/, ''));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git', 'bench/results', 'coverage']));
    // everything the build copies must survive the ignore list
    const sources = stages.flatMap((stage) => stage.lines).filter((line) => /^COPY\s+(?!--from)/.test(line)).flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.filter((source) => ignored.includes(source.replace(/\/$/, '')) || !existsSync(join(REPO_ROOT, source)))).toEqual([]);
  });
});
