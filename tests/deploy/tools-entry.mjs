// Copied by setup-tools.sh into the tools directory beside its node_modules: imports made here resolve
// there, so the checks in tests/deploy/ load the pinned npm packages wherever they were installed.
export { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// specifier: e.g. "kubernetes-models/apps/v1/Deployment" or
// "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor".
export function importModule(specifier) {
  return import(specifier);
}
