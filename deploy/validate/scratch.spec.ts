import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { schemaErrors, StrictFieldChecker, K8sObject } from './k8s-schema';
test('scratch', () => {
  const docs = parseAllDocuments(readFileSync('deploy/k8s/gateway.yaml', 'utf8')).map((d) => d.toJS() as K8sObject);
  const t0 = Date.now();
  const checker = new StrictFieldChecker(docs);
  console.log('program ms', Date.now() - t0);
  for (const d of docs) console.log(d.kind, schemaErrors(d), checker.unknownFields(d));
  const bad = JSON.parse(JSON.stringify(docs[0]));
  bad.spec.template.spec.containers[0].readinesProbe = {};
  bad.spec.replicas = 'two';
  bad.spec.template.spec.containers[0].resources.limits.cpu = { x: 1 };
  bad.metadata.labels.foo = 3;
  bad.spec.template.spec.containers[0].env[2].valueFrom.configMapKeyRef.nmae = 'x';
  console.log(schemaErrors(bad), checker.unknownFields(bad));
});
