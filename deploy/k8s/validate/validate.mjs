// Checks Kubernetes manifests offline against the API schemas that kubernetes-models bundles (no cluster needed):
//   npm ci && kubectl kustomize .. | node validate.mjs
// Reads a multi-document YAML stream from stdin (or the file named as the argument); exit 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";

const models = { ConfigMap, Service, StatefulSet, NetworkPolicy };
const text = readFileSync(process.argv[2] ?? 0, "utf8");
let failures = 0;
for (const document of parseAllDocuments(text)) {
  if (document.errors.length > 0) {
    failures++;
    console.log(`not YAML: ${document.errors[0].message}`);
    continue;
  }

  const resource = document.toJSON();
  const Model = models[resource?.kind];
  const name = `${resource?.kind}/${resource?.metadata?.name}`;
  if (!Model) {
    failures++;
    console.log(`${name}: no schema here for this kind; add its model to validate.mjs`);
    continue;
  }

  try {
    new Model(resource).validate();
    console.log(`valid ${name}`);
  } catch (error) {
    failures++;
    console.log(`${name}: ${error.message}`);
  }
}

process.exit(failures === 0 ? 0 : 1);
