/**
 * The production overlay (deploy/production) against the code and against the NATS Helm values
 * it goes with (deploy/production/nats-values.yaml): KEDA scales the right Deployments on the
 * consumers the code provisions, the services reach the NATS cluster by names its certificate
 * has and trust its CA, and they read DATABASE_URL from the CloudNativePG cluster's Secret.
 *
 * deploy/production uses kustomize features (components, targeted JSON patches) that only
 * kustomize renders, so the checks of its rendered output need kubectl (CI has it; without it
 * they are skipped and say so). Schemas of every rendered object: ./kubectl-render.spec.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { IContainer, IPodSpec, IVolume } from 'kubernetes-models/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { CONSUMERS } from '@lrs/contracts';
import { CONSUMER_POLICIES } from '@lrs/jetstream';
import type { K8sObject } from './k8s-schema';
import { kubectlKustomize, kubectlVersion } from './kubectl';
import { containersOf, readKustomization, readYamlDocuments, renderKustomization } from './kustomize';
import { REPO_ROOT, envReadsOfCommand, importClosure, entrySourceForCommand } from './source-env';

const PRODUCTION_DIR = join(REPO_ROOT, 'deploy/production');
const VALUES_FILE = join(PRODUCTION_DIR, 'nats-values.yaml');
const SECRET_TEMPLATE = join(REPO_ROOT, 'deploy/k8s/secret.template.yaml');
/** The Deployments KEDA scales on their consumer's lag. */
const SCALED = ['llm-worker', 'callback-dispatcher'];
/** Parameters of KEDA's nats-jetstream scaler (its documentation, "Parameter list"). */
const JETSTREAM_SCALER_PARAMETERS = ['natsServerMonitoringEndpoint', 'account', 'stream', 'consumer', 'lagThreshold', 'activationLagThreshold', 'useHttps'];
const JETSTREAM_SCALER_REQUIRED = ['natsServerMonitoringEndpoint', 'account', 'stream', 'consumer', 'lagThreshold'];
/** Kinds that have no namespace. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterIssuer', 'ClusterRole', 'ClusterRoleBinding']);
/** A program that imports the read model talks to Postgres (the others may read DATABASE_URL and never connect). */
const READ_MODEL_LIB = 'libs/persistence/read-model/src/';

/**
 * The NATS chart ships no values.schema.json (chart 2.14), so the values file is checked against
 * this list of keys of the chart's values.yaml instead: the ones nats-values.yaml sets and their
 * near neighbours. A key outside it is a typo or a key of another chart version, which Helm would
 * ignore without a word. `FREE_FORM` keys hold whatever Kubernetes or nats-server take there.
 */
const NATS_CHART_KEYS = new Set([
  'global.image.pullPolicy', 'global.image.pullSecretNames', 'global.image.registry',
  'nameOverride', 'fullnameOverride', 'namespaceOverride',
  'tlsCA.enabled', 'tlsCA.configMapName', 'tlsCA.secretName', 'tlsCA.dir', 'tlsCA.key',
  'config.cluster.enabled', 'config.cluster.port', 'config.cluster.replicas', 'config.cluster.noAdvertise',
  'config.cluster.routeURLs.user', 'config.cluster.routeURLs.password', 'config.cluster.routeURLs.useFQDN', 'config.cluster.routeURLs.k8sClusterDomain',
  'config.cluster.tls.enabled', 'config.cluster.tls.secretName', 'config.cluster.tls.dir', 'config.cluster.tls.cert', 'config.cluster.tls.key',
  'config.jetstream.enabled',
  'config.jetstream.fileStore.enabled', 'config.jetstream.fileStore.dir', 'config.jetstream.fileStore.maxSize',
  'config.jetstream.fileStore.pvc.enabled', 'config.jetstream.fileStore.pvc.size', 'config.jetstream.fileStore.pvc.storageClassName', 'config.jetstream.fileStore.pvc.name',
  'config.jetstream.memoryStore.enabled', 'config.jetstream.memoryStore.maxSize',
  'config.nats.port', 'config.nats.tls.enabled', 'config.nats.tls.secretName', 'config.nats.tls.dir', 'config.nats.tls.cert', 'config.nats.tls.key',
  'config.monitor.enabled', 'config.monitor.port', 'config.monitor.tls.enabled',
  'config.profiling.enabled', 'config.profiling.port', 'config.serverNamePrefix',
  'container.image.repository', 'container.image.tag', 'container.image.pullPolicy', 'container.image.registry', 'container.image.digest', 'container.image.fullImageName',
  'reloader.enabled', 'promExporter.enabled', 'promExporter.port', 'promExporter.podMonitor.enabled',
  'service.enabled', 'service.name', 'statefulSet.name', 'headlessService.name', 'configMap.name',
  'podTemplate.configChecksumAnnotation', 'podDisruptionBudget.enabled', 'podDisruptionBudget.name',
  'serviceAccount.enabled', 'serviceAccount.name', 'natsBox.enabled',
]);
const FREE_FORM = new Set(['global.labels', 'container.env', 'container.resources', 'podTemplate.topologySpreadConstraints']);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keys of a Helm values tree that the chart does not have. */
function unknownChartKeys(values: unknown, path = ''): string[] {
  if (!isMap(values)) return path && !NATS_CHART_KEYS.has(path) ? [path] : [];
  return Object.entries(values).flatMap(([key, child]) => {
    const childPath = path ? `${path}.${key}` : key;
    if (FREE_FORM.has(childPath) || key === 'merge' || key === 'patch') return [];
    if (isMap(child) && Object.keys(child).length > 0) return unknownChartKeys(child, childPath);
    return NATS_CHART_KEYS.has(childPath) ? [] : [childPath];
  });
}

/** Whether a certificate DNS name (`*.` only as the whole leftmost label) covers a host. */
function dnsNameCovers(dnsName: string, host: string): boolean {
  if (!dnsName.startsWith('*.')) return dnsName === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === dnsName.slice(2);
}

/** Host and port of each `nats://` or `tls://` URL of a comma-separated NATS_URL. */
function natsServers(natsUrl: string): { protocol: string; host: string; port: string }[] {
  return natsUrl.split(',').map((entry) => {
    const url = new URL(entry.trim());
    return { protocol: url.protocol, host: url.hostname, port: url.port };
  });
}

/** How many pods a PodDisruptionBudget lets go at once, for a workload of `replicas`. */
function allowedDisruptions(pdb: IPodDisruptionBudget, replicas: number): number {
  const scale = (value: number | string, round: (n: number) => number): number =>
    typeof value === 'number' ? value : round((replicas * Number(value.replace('%', ''))) / 100);
  if (pdb.spec?.maxUnavailable !== undefined) return scale(pdb.spec.maxUnavailable, Math.ceil);
  if (pdb.spec?.minAvailable !== undefined) return replicas - scale(pdb.spec.minAvailable, Math.ceil);
  return replicas;
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Files a kustomization (or component) directory refers to: resources, patches, components. */
function referencedFiles(dir: string): string[] {
  const { kustomization } = readKustomization(dir);
  const entries = [...(kustomization?.resources ?? []), ...((kustomization?.components as string[] | undefined) ?? [])].map((entry) => resolve(dir, entry));
  const patches = (kustomization?.patches ?? []).flatMap((patch) => (patch.path ? [resolve(dir, patch.path)] : []));
  return [join(dir, 'kustomization.yaml'), ...patches, ...entries.flatMap((entry) => (statSync(entry).isDirectory() ? (entry.startsWith(PRODUCTION_DIR) ? referencedFiles(entry) : []) : [entry]))];
}

// ---------------------------------------------------------------------------------------------
// Loaded once
// ---------------------------------------------------------------------------------------------

const values = readYamlDocuments(VALUES_FILE).docs[0] as {
  namespaceOverride: string;
  statefulSet: { name: string };
  headlessService: { name: string };
  config: {
    cluster: { enabled: boolean; replicas: number; routeURLs?: { useFQDN?: boolean; k8sClusterDomain?: string }; tls: { enabled: boolean; secretName: string } };
    jetstream: { enabled: boolean; fileStore: { enabled: boolean; pvc: { enabled: boolean; size: string } }; memoryStore?: { enabled: boolean } };
    nats: { port?: number; tls: { enabled: boolean; secretName: string } };
    monitor: { enabled: boolean; port: number; tls?: { enabled: boolean } };
  };
  tlsCA: { enabled: boolean; secretName: string; key: string };
};
const natsNamespace = values.namespaceOverride;
const clusterDomain = values.config.cluster.routeURLs?.k8sClusterDomain ?? 'cluster.local';
/** What each NATS server is called inside the cluster (the StatefulSet's pods under the headless Service). */
const serverHosts = Array.from({ length: values.config.cluster.replicas }, (_, i) => `${values.statefulSet.name}-${i}.${values.headlessService.name}.${natsNamespace}.svc.${clusterDomain}`);

const KUBECTL = kubectlVersion();
const production = KUBECTL ? kubectlKustomize(PRODUCTION_DIR) : { objects: [] as K8sObject[], errors: [] as string[] };
const describeRendered = KUBECTL ? describe : describe.skip;
const NEEDS_KUBECTL = KUBECTL ? '' : ' (NOT checked: kubectl is not on PATH)';
const base = renderKustomization(join(REPO_ROOT, 'deploy/k8s'));

const objectsOf = (kind: string, objects = production.objects): K8sObject[] => objects.filter((object) => object.kind === kind);
const find = (kind: string, name: string, objects = production.objects): K8sObject | undefined => objectsOf(kind, objects).find((object) => object.metadata.name === name);
const podSpecOf = (object: K8sObject): IPodSpec | undefined => (object.spec as { template?: { spec?: IPodSpec } }).template?.spec;
const containersIn = (object: K8sObject): IContainer[] => containersOf(object) as unknown as IContainer[];
const configMap = (): Record<string, string> => (find('ConfigMap', 'letta-config')?.data as Record<string, string> | undefined) ?? {};

interface Trigger {
  type: string;
  metadata: Record<string, string>;
}
interface ScaledObjectSpec {
  scaleTargetRef: { apiVersion?: string; kind?: string; name: string };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  triggers: Trigger[];
  advanced?: { horizontalPodAutoscalerConfig?: { name?: string } };
}
const scaledObjectFor = (deployment: string): (K8sObject & { spec: ScaledObjectSpec }) | undefined =>
  objectsOf('ScaledObject').find((object) => (object.spec as ScaledObjectSpec).scaleTargetRef.name === deployment) as (K8sObject & { spec: ScaledObjectSpec }) | undefined;

/** The program a container runs, if it is one of ours, and whether it uses Postgres. */
function programOf(container: IContainer): { reads: Map<string, unknown>; files: string[]; usesPostgres: boolean } | null {
  const program = envReadsOfCommand(container.command);
  return program && { ...program, usesPostgres: program.files.some((file) => file.startsWith(READ_MODEL_LIB)) };
}

/** The CONSUMERS key whose handlers a Deployment's program registers (`onRunEvents(CONSUMERS.<key>`). */
function consumerKeyOf(deployment: K8sObject): string[] {
  const entry = entrySourceForCommand(containersIn(deployment)[0]?.command);
  if (!entry) return [];
  const sources = importClosure(entry).map((file) => readFileSync(file, 'utf8')).join('\n');
  return Object.keys(CONSUMERS).filter((key) => sources.includes(`onRunEvents(CONSUMERS.${key}`));
}

// ---------------------------------------------------------------------------------------------
// NATS Helm values
// ---------------------------------------------------------------------------------------------

describe('NATS Helm values (deploy/production/nats-values.yaml)', () => {
  it('parses, and uses only keys the chart has (checked against a list: the chart ships no values.schema.json)', () => {
    expect(readYamlDocuments(VALUES_FILE).errors).toEqual([]);
    expect(unknownChartKeys(values)).toEqual([]);
  });

  it('negative control: a misspelt or misplaced key is reported; merge, patch and free-form maps are not', () => {
    expect(unknownChartKeys({ config: { jetstream: { fileStorage: { enabled: true } }, nats: { tls: { secret: 'x' } } } })).toEqual([
      'config.jetstream.fileStorage.enabled',
      'config.nats.tls.secret',
    ]);
    expect(unknownChartKeys({ config: { merge: { anything: 1 } }, container: { env: { GOMEMLIMIT: '1GiB' } } })).toEqual([]);
  });

  it('runs a cluster of three JetStream servers on file storage with persistent volumes', () => {
    const { cluster, jetstream } = values.config;
    expect(cluster.enabled).toBe(true);
    expect(cluster.replicas).toBe(3);
    expect(jetstream.enabled).toBe(true);
    expect(jetstream.fileStore.enabled).toBe(true);
    expect(jetstream.fileStore.pvc.enabled).toBe(true);
    expect(jetstream.fileStore.pvc.size).toMatch(/^\d+[GT]i$/);
    expect(jetstream.memoryStore?.enabled ?? false).toBe(false);
  });

  it('requires TLS of clients and routes, with the CA the servers verify routes by', () => {
    const { cluster, nats } = values.config;
    expect(nats.tls).toMatchObject({ enabled: true, secretName: expect.any(String) });
    expect(cluster.tls).toMatchObject({ enabled: true, secretName: nats.tls.secretName });
    expect(values.tlsCA).toEqual({ enabled: true, secretName: nats.tls.secretName, key: 'ca.crt' });
  });

  it('serves monitoring (what KEDA reads) over plain HTTP on a fixed port', () => {
    expect(values.config.monitor.enabled).toBe(true);
    expect(values.config.monitor.port).toBe(8222);
    expect(values.config.monitor.tls?.enabled ?? false).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The rendered overlay
// ---------------------------------------------------------------------------------------------

describe(`deploy/production${NEEDS_KUBECTL}`, () => {
  it('uses every manifest file in deploy/production (the Helm values are not a kustomization)', () => {
    const used = new Set(referencedFiles(PRODUCTION_DIR));
    const orphans = yamlFilesUnder(PRODUCTION_DIR).filter((file) => !used.has(file) && file !== VALUES_FILE).map((file) => relative(REPO_ROOT, file));
    expect(orphans).toEqual([]);
  });

  it('leaves the base free of custom resources, so it runs without KEDA, cert-manager or CloudNativePG', () => {
    expect(base.objects.filter((object) => object.apiVersion.includes('.') && !object.apiVersion.includes('k8s.io/')).map((object) => object.kind)).toEqual([]);
    for (const name of SCALED) expect((find('Deployment', name, base.objects)?.spec as { replicas?: number }).replicas).toBeGreaterThan(0);
  });

  describeRendered(`rendered${NEEDS_KUBECTL}`, () => {
    it('renders, and names the namespace of every namespaced object (the overlay sets none)', () => {
      expect(production.errors).toEqual([]);
      const unplaced = production.objects.filter((object) => !CLUSTER_SCOPED.has(object.kind) && !object.metadata.namespace);
      expect(unplaced.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
    });
  });
});

describeRendered(`KEDA autoscaling (deploy/production/keda)${NEEDS_KUBECTL}`, () => {
  it.each(SCALED)("%s: a ScaledObject targets the Deployment, on the consumer its program reads, on that consumer's stream", (name) => {
    const deployment = find('Deployment', name);
    const scaled = scaledObjectFor(name);
    expect(deployment).toBeDefined();
    expect(scaled?.metadata.namespace).toBe(deployment?.metadata.namespace);
    expect(scaled?.spec.scaleTargetRef).toMatchObject({ name, ...(scaled?.spec.scaleTargetRef.kind ? { kind: 'Deployment' } : {}) });

    const keys = consumerKeyOf(deployment as K8sObject) as (keyof typeof CONSUMERS)[];
    expect(keys).toHaveLength(1);
    const [key] = keys;
    const triggers = scaled?.spec.triggers ?? [];
    expect(triggers.map((trigger) => trigger.type)).toEqual(['nats-jetstream']);
    expect(triggers[0].metadata.consumer).toBe(CONSUMERS[key]);
    expect(triggers[0].metadata.stream).toBe(CONSUMER_POLICIES[key].stream);
    // the durable consumer that provisioning creates on that stream
    expect(CONSUMER_POLICIES[key].name).toBe(CONSUMERS[key]);
  });

  it('uses only the nats-jetstream scaler parameters KEDA knows, with the required ones and numbers as strings', () => {
    const problems: string[] = [];
    for (const scaled of objectsOf('ScaledObject')) {
      for (const trigger of (scaled.spec as ScaledObjectSpec).triggers) {
        const keys = Object.keys(trigger.metadata);
        for (const key of keys.filter((k) => !JETSTREAM_SCALER_PARAMETERS.includes(k))) problems.push(`${scaled.metadata.name}: unknown parameter ${key}`);
        for (const key of JETSTREAM_SCALER_REQUIRED.filter((k) => !keys.includes(k))) problems.push(`${scaled.metadata.name}: no ${key}`);
        for (const key of ['lagThreshold', 'activationLagThreshold'].filter((k) => k in trigger.metadata)) {
          if (!/^[1-9]\d*$/.test(trigger.metadata[key])) problems.push(`${scaled.metadata.name}: ${key} is not a positive integer`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('reads the monitoring endpoint of the NATS servers of the Helm values, in the global account', () => {
    for (const scaled of objectsOf('ScaledObject')) {
      const [trigger] = (scaled.spec as ScaledObjectSpec).triggers;
      // the scaler reaches the consumer's leader as <server>.<endpoint host>: the headless Service
      expect(trigger.metadata.natsServerMonitoringEndpoint).toBe(`${values.headlessService.name}.${natsNamespace}.svc.${clusterDomain}:${values.config.monitor.port}`);
      expect(trigger.metadata.useHttps ?? 'false').toBe(String(values.config.monitor.tls?.enabled ?? false));
      expect(trigger.metadata.account).toBe('$G');
    }
  });

  it.each(SCALED)('%s: min and max replicas fit the PodDisruptionBudget and the consumer', (name) => {
    const scaled = scaledObjectFor(name) as K8sObject & { spec: ScaledObjectSpec };
    const min = scaled.spec.minReplicaCount ?? 0;
    const max = scaled.spec.maxReplicaCount ?? 100;
    const labels = (find('Deployment', name)?.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const pdbs = objectsOf('PodDisruptionBudget').filter((pdb) =>
      Object.entries((pdb as unknown as IPodDisruptionBudget).spec?.selector?.matchLabels ?? { none: '' }).every(([key, value]) => labels?.[key] === value),
    ) as unknown as IPodDisruptionBudget[];
    expect(pdbs).toHaveLength(1);
    // a drain the budget allows still leaves a pod at the lowest count, and is possible at all
    const allowed = allowedDisruptions(pdbs[0], min);
    expect(allowed).toBeGreaterThanOrEqual(1);
    expect(min - allowed).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThan(min);

    // lagThreshold is one pod's concurrency, and the pods at the maximum can all get work
    const container = containersIn(find('Deployment', name) as K8sObject)[0];
    const concurrencyVars = (container.env ?? []).filter((entry) => /_CONCURRENCY$/.test(entry.name));
    expect(concurrencyVars).toHaveLength(1);
    const concurrency = configMap()[concurrencyVars[0].valueFrom?.configMapKeyRef?.key ?? ''];
    expect(scaled.spec.triggers[0].metadata.lagThreshold).toBe(concurrency);
    const [key] = consumerKeyOf(find('Deployment', name) as K8sObject) as (keyof typeof CONSUMERS)[];
    expect(max * Number(concurrency)).toBeLessThanOrEqual(CONSUMER_POLICIES[key].maxAckPending);
  });

  it.each(SCALED)('%s: nothing else sets the replica count KEDA owns, and an HPA of the base is adopted', (name) => {
    expect(find('Deployment', name)?.spec).not.toHaveProperty('replicas');
    const hpas = objectsOf('HorizontalPodAutoscaler').filter((hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name);
    expect(hpas.map((hpa) => hpa.metadata.name)).toEqual([]);
    const baseHpa = objectsOf('HorizontalPodAutoscaler', base.objects).find((hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name);
    const scaled = scaledObjectFor(name) as K8sObject & { spec: ScaledObjectSpec };
    if (baseHpa) {
      // applied over a running base, KEDA takes over its HPA instead of refusing the target
      expect(scaled.metadata.annotations?.['scaledobject.keda.sh/transfer-hpa-ownership']).toBe('true');
      expect(scaled.spec.advanced?.horizontalPodAutoscalerConfig?.name).toBe(baseHpa.metadata.name);
    }
  });
});

describeRendered(`NATS cluster wiring${NEEDS_KUBECTL}`, () => {
  const serverCertificate = (): K8sObject | undefined =>
    objectsOf('Certificate').find((cert) => cert.metadata.namespace === natsNamespace && (cert.spec as { secretName: string }).secretName === values.config.nats.tls.secretName);

  it('lists every server of the cluster in NATS_URL, and replicates streams on three of them', () => {
    const servers = natsServers(configMap().NATS_URL ?? '');
    expect(servers.map((server) => server.host)).toEqual(serverHosts);
    expect(servers.every((server) => ['nats:', 'tls:'].includes(server.protocol) && server.port === String(values.config.nats.port ?? 4222))).toBe(true);
    expect(configMap().JETSTREAM_REPLICAS).toBe('3');
    expect(Number(configMap().JETSTREAM_REPLICAS)).toBeLessThanOrEqual(values.config.cluster.replicas);
  });

  it('has a cert-manager Certificate in the NATS namespace for the servers, naming every host clients and routes dial', () => {
    const cert = serverCertificate();
    expect(cert).toBeDefined();
    expect(find('Namespace', natsNamespace)).toBeDefined();
    const spec = cert?.spec as { dnsNames: string[]; usages: string[]; issuerRef: { kind: string; name: string } };
    expect(spec.usages).toEqual(expect.arrayContaining(['server auth', 'client auth'])); // routes are both
    const dialled = [...new Set([...serverHosts, ...natsServers(configMap().NATS_URL ?? '').map((server) => server.host)])];
    expect(dialled.filter((host) => !spec.dnsNames.some((dnsName) => dnsNameCovers(dnsName, host)))).toEqual([]);
    // a CA issuer: cert-manager then writes the CA as ca.crt, which tlsCA mounts
    const issuer = find(spec.issuerRef.kind, spec.issuerRef.name);
    expect((issuer?.spec as { ca?: { secretName: string } }).ca?.secretName).toBeDefined();
  });

  it('makes every service that uses NATS trust the servers\' CA through NODE_EXTRA_CA_CERTS', () => {
    const issuerOfServers = JSON.stringify((serverCertificate()?.spec as { issuerRef: unknown }).issuerRef);
    const problems: string[] = [];
    for (const workload of objectsOf('Deployment')) {
      if (!programOf(containersIn(workload)[0])?.reads.has('NATS_URL')) continue;
      const container = containersIn(workload)[0];
      const where = `${workload.metadata.name}`;
      const caFile = container.env?.find((entry) => entry.name === 'NODE_EXTRA_CA_CERTS')?.value;
      if (!caFile) {
        problems.push(`${where}: no NODE_EXTRA_CA_CERTS`);
        continue;
      }
      const mount = container.volumeMounts?.find((candidate) => caFile.startsWith(`${candidate.mountPath.replace(/\/$/, '')}/`));
      const volume = podSpecOf(workload)?.volumes?.find((candidate: IVolume) => candidate.name === mount?.name);
      const item = volume?.secret?.items?.find((candidate) => `${mount?.mountPath.replace(/\/$/, '')}/${candidate.path}` === caFile);
      if (!volume?.secret || item?.key !== 'ca.crt') {
        problems.push(`${where}: ${caFile} is not the ca.crt of a mounted Secret`);
        continue;
      }
      const cert = objectsOf('Certificate').find((candidate) => candidate.metadata.namespace === workload.metadata.namespace && (candidate.spec as { secretName: string }).secretName === volume.secret?.secretName);
      if (!cert) problems.push(`${where}: Secret ${volume.secret.secretName} is not written by a Certificate of its namespace`);
      else if (JSON.stringify((cert.spec as { issuerRef: unknown }).issuerRef) !== issuerOfServers) problems.push(`${where}: its CA is not the issuer of the servers' certificate`);
    }
    expect(problems).toEqual([]);
    expect(objectsOf('Deployment').length).toBe(5);
  });
});

describeRendered(`CloudNativePG Postgres${NEEDS_KUBECTL}`, () => {
  const cluster = (): K8sObject & { spec: Record<string, unknown> } => objectsOf('Cluster')[0] as K8sObject & { spec: Record<string, unknown> };

  it('is one Cluster of three instances on persistent storage, in the services\' namespace', () => {
    expect(objectsOf('Cluster')).toHaveLength(1);
    expect(cluster().spec.instances).toBe(3);
    expect((cluster().spec.storage as { size?: string }).size).toMatch(/^\d+[GT]i$/);
    expect(cluster().metadata.namespace).toBe(find('Deployment', 'gateway')?.metadata.namespace);
  });

  it('bootstraps the database and owner that the services\' DATABASE_URL names', () => {
    const template = readYamlDocuments(SECRET_TEMPLATE).docs[0] as { stringData: Record<string, string> };
    const expected = new URL(template.stringData['database-url']);
    expect((cluster().spec.bootstrap as { initdb: unknown }).initdb).toMatchObject({ database: expected.pathname.slice(1), owner: expected.username });
  });

  it('gives DATABASE_URL to every program that uses Postgres, from the Secret the operator writes', () => {
    const secretName = `${cluster().metadata.name}-app`;
    const problems: string[] = [];
    const users: string[] = [];
    for (const workload of [...objectsOf('Deployment'), ...objectsOf('Job')]) {
      for (const container of containersIn(workload)) {
        const usesPostgres = programOf(container)?.usesPostgres ?? false;
        const ref = container.env?.find((entry) => entry.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
        if (usesPostgres) users.push(workload.metadata.name);
        if (!usesPostgres && !ref) continue;
        if (!usesPostgres) problems.push(`${workload.metadata.name}: sets DATABASE_URL, but its program does not use Postgres`);
        else if (ref?.name !== secretName || ref.key !== 'uri') problems.push(`${workload.metadata.name}: DATABASE_URL from ${JSON.stringify(ref)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(users.sort()).toEqual(['gateway', 'llm-worker', 'migrate', 'projector']);
  });

  it('allows the connections the services can open at their maximum scale', () => {
    const maxConnections = Number((cluster().spec.postgresql as { parameters: Record<string, string> }).parameters.max_connections);
    let budget = 0;
    for (const workload of [...objectsOf('Deployment'), ...objectsOf('Job')]) {
      const program = programOf(containersIn(workload)[0]);
      if (!program?.usesPostgres) continue;
      const pool = /\.int\(\s*'DB_POOL_SIZE',\s*(\d+)/.exec(program.files.map((file) => readFileSync(join(REPO_ROOT, file), 'utf8')).join('\n'));
      const pods =
        workload.kind === 'Job'
          ? 1
          : (scaledObjectFor(workload.metadata.name)?.spec.maxReplicaCount ??
            (objectsOf('HorizontalPodAutoscaler').find((hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === workload.metadata.name)?.spec as { maxReplicas?: number } | undefined)?.maxReplicas ??
            (workload.spec as { replicas: number }).replicas);
      budget += pods * (pool ? Number(pool[1]) : 1);
    }
    expect(budget).toBeGreaterThan(100);
    // the operator's and superusers' reserved connections come out of the same limit
    expect(budget + 20).toBeLessThanOrEqual(maxConnections);
  });

  it('is scraped by a PodMonitor on the instances\' metrics port', () => {
    const monitors = objectsOf('PodMonitor') as (K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } })[];
    expect(monitors).toHaveLength(1);
    expect(monitors[0].metadata.namespace).toBe(cluster().metadata.namespace);
    expect(monitors[0].spec.selector.matchLabels).toEqual({ 'cnpg.io/cluster': cluster().metadata.name });
    expect(monitors[0].spec.podMetricsEndpoints.map((endpoint) => endpoint.port)).toEqual(['metrics']);
  });
});
