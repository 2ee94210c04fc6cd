/**
 * Minimal valid objects, independent of the manifests under test, that the specs' negative
 * controls break on purpose: each proves a check can fail.
 */
import type { K8sObject } from './k8s-schema';

export const probeDeployment = (): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'probe' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'probe' } },
    template: {
      metadata: { labels: { app: 'probe' } },
      spec: {
        containers: [
          {
            name: 'probe',
            image: 'probe:1',
            readinessProbe: { httpGet: { path: '/', port: 80 } },
            resources: { limits: { cpu: '1', memory: '1Gi' } },
            env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'A' } } }],
          },
        ],
      },
    },
  },
});

export const probeScaledObject = (): K8sObject => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name: 'probe' },
  spec: {
    scaleTargetRef: { name: 'probe' },
    minReplicaCount: 2,
    maxReplicaCount: 4,
    triggers: [{ type: 'nats-jetstream', metadata: { stream: 'S', consumer: 'c', lagThreshold: '10' } }],
  },
});

export const probeCluster = (): K8sObject => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name: 'probe' },
  spec: { instances: 3, storage: { size: '1Gi' }, bootstrap: { initdb: { database: 'app', owner: 'app' } } },
});
