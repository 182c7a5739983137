// Validates rendered Kubernetes manifests (helm template, kubectl kustomize): every object against its
// schema (npm kubernetes-models, @kubernetes-models/prometheus-operator), then our own checks across the
// objects: Service selectors match pod template labels, named ports exist, probes and resources are set,
// pods run as non-root with a read-only root filesystem and all capabilities dropped, the aggregator's grace
// period outlasts its drain, configuration changes roll the pods, pod templates carry no chart version,
// metrics ports stay off exposed Services, replicated Deployments have a PodDisruptionBudget, topology spread
// selects the workload's own pods, NATS key files come read-only from Secrets, HTTPRoutes reach a Service.
//
//   node validate.mjs [--expect-kinds Kind,Kind...] [--mutations] FILE.yaml
//
// --expect-kinds: fail unless each kind is rendered at least once.
// --mutations:    self-test: break FILE's objects one way at a time and require each break to be reported
//                 (so these checks can fail).
// Environment: OVALSTREAM_DEPLOY_TOOLS, the directory setup-tools.sh installed into.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const toolsDir = process.env.OVALSTREAM_DEPLOY_TOOLS;
if (!toolsDir) {
  console.error('validate: set OVALSTREAM_DEPLOY_TOOLS to the directory setup-tools.sh installed into');
  process.exit(2);
}
const tools = await import(pathToFileURL(join(toolsDir, 'node', 'tools-entry.mjs')).href);

// apiVersion → module prefix of its models.
function modelSpecifier(apiVersion, kind) {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  if (apiVersion.startsWith('gateway.networking.k8s.io/')) {
    return `@kubernetes-models/gateway-api/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const specifier = modelSpecifier(apiVersion, kind);
  if (!modelCache.has(specifier)) {
    let model = null;
    try {
      model = (await tools.importModule(specifier))[kind] ?? null;
    } catch {
      model = null;
    }
    modelCache.set(specifier, model);
  }
  return modelCache.get(specifier);
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);
const LONG_RUNNING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

const nameOf = (object) => `${object.kind}/${object.metadata?.name ?? '?'}`;

function podTemplate(object) {
  switch (object.kind) {
    case 'Pod':
      return { metadata: object.metadata ?? {}, spec: object.spec ?? {} };
    case 'CronJob':
      return object.spec?.jobTemplate?.spec?.template ?? { metadata: {}, spec: {} };
    default:
      return object.spec?.template ?? { metadata: {}, spec: {} };
  }
}

const labelsMatch = (selector, labels) =>
  Object.entries(selector ?? {}).every(([key, value]) => (labels ?? {})[key] === value);

// A Go duration ("5s", "1m30s", "250ms") in seconds.
function goDurationSeconds(text) {
  const units = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const pattern = /([0-9.]+)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of String(text).matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]];
    consumed += match[0].length;
  }
  if (consumed !== String(text).length || consumed === 0) throw new Error(`not a Go duration: ${text}`);
  return total;
}

// The value of --flag from args ("--flag=v" or "--flag v"), else from the container's env and envFrom
// ConfigMaps (OVALSTREAM_FLAG), else undefined.
function flagValue(container, flag, configMaps) {
  const args = [...(container.command ?? []), ...(container.args ?? [])];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === `--${flag}` && i + 1 < args.length) return args[i + 1];
    if (String(args[i]).startsWith(`--${flag}=`)) return String(args[i]).slice(flag.length + 3);
  }
  const envName = `OVALSTREAM_${flag.toUpperCase().replaceAll('-', '_')}`;
  const env = (container.env ?? []).find((entry) => entry.name === envName);
  if (env && env.value !== undefined) return env.value;
  for (const source of container.envFrom ?? []) {
    const data = configMaps.get(source.configMapRef?.name)?.data ?? {};
    if (data[envName] !== undefined) return data[envName];
  }
  return undefined;
}

function checkContainerSecurity(where, container, podSecurity, problems) {
  const security = container.securityContext ?? {};
  const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
  const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
  if (runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true (pod or container)`);
  if (runAsUser === 0) problems.push(`${where}: runAsUser is 0`);
  if (security.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
  if (security.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
  if (security.privileged === true) problems.push(`${where}: privileged`);
  if (!(security.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities.drop lacks ALL`);
  if ((security.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
}

function checkResources(where, container, problems) {
  const resources = container.resources ?? {};
  for (const key of ['cpu', 'memory']) {
    if (resources.requests?.[key] === undefined) problems.push(`${where}: resources.requests.${key} not set`);
  }
  if (resources.limits?.memory === undefined) problems.push(`${where}: resources.limits.memory not set`);
}

function checkProbes(where, container, problems) {
  const portNames = new Set((container.ports ?? []).map((port) => port.name).filter(Boolean));
  const portNumbers = new Set((container.ports ?? []).map((port) => port.containerPort));
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const spec = container[probe];
    if (!spec) {
      problems.push(`${where}: ${probe} not set`);
      continue;
    }
    const port = spec.httpGet?.port ?? spec.tcpSocket?.port ?? spec.grpc?.port;
    if (typeof port === 'string' && !portNames.has(port)) {
      problems.push(`${where}: ${probe} uses port "${port}", not a named port of the container`);
    }
    if (typeof port === 'number' && !portNumbers.has(port)) {
      problems.push(`${where}: ${probe} uses port ${port}, not a containerPort of the container`);
    }
  }
}

// The aggregator drains after SIGTERM for --drain-delay, then closes connections over --drain-seconds; a
// preStop hook runs before SIGTERM. The kubelet kills the pod at terminationGracePeriodSeconds.
function checkAggregatorGrace(where, template, container, configMaps, problems) {
  const drainDelay = goDurationSeconds(flagValue(container, 'drain-delay', configMaps) ?? '5s');
  const drainSeconds = Number(flagValue(container, 'drain-seconds', configMaps) ?? 10);
  let preStop = 0;
  const command = container.lifecycle?.preStop?.exec?.command ?? [];
  if (command.length === 2 && /(^|\/)sleep$/.test(command[0])) preStop = Number(command[1]);
  if (container.lifecycle?.preStop?.sleep?.seconds) preStop = container.lifecycle.preStop.sleep.seconds;
  const grace = template.spec.terminationGracePeriodSeconds ?? 30;
  const needed = preStop + drainDelay + drainSeconds;
  if (!(grace > needed)) {
    problems.push(`${where}: terminationGracePeriodSeconds ${grace} does not exceed preStop ${preStop} s + ` +
                  `drain-delay ${drainDelay} s + drain-seconds ${drainSeconds} s`);
  }
  if (!container.lifecycle?.preStop) problems.push(`${where}: no preStop hook`);
}

const isAggregator = (container) =>
  container.name === 'aggregator' || /(^|\/)aggregator(:|$)/.test(container.image ?? '');
const isRecorder = (container) =>
  container.name === 'recorder' || /(^|\/)recorder(:|$)/.test(container.image ?? '');

// Access control as the executables will see it (docs/security.md): with --auth required every key file
// is a file of a mounted Secret (keys never sit in a ConfigMap), mounted whole (a subPath mount never sees
// the Secret's updates, so keys would not rotate); `recorder serve` with --auth off must listen on loopback
// (it refuses to start otherwise: the chart must not render a crash loop).
function checkAccessControl(where, template, container, configMaps, problems) {
  const mode = flagValue(container, 'auth', configMaps) ?? 'off';
  if (mode === 'required') {
    const files = ['auth-hmac-secret-file', 'auth-public-keys'].map((flag) => flagValue(container, flag, configMaps)).filter(Boolean);
    if (files.length === 0) problems.push(`${where}: --auth required without a key file`);
    const volumes = new Map((template.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
    for (const file of files) {
      const mount = (container.volumeMounts ?? []).find((candidate) => file.startsWith(`${candidate.mountPath.replace(/\/$/, '')}/`));
      if (!mount) {
        problems.push(`${where}: key file ${file} is not under a volume mount`);
      } else if (!volumes.get(mount.name)?.secret) {
        problems.push(`${where}: key file ${file} is not from a Secret volume`);
      } else if (mount.subPath) {
        problems.push(`${where}: key file ${file} is mounted with subPath (Secret updates would not reach it)`);
      }
    }
  } else if (isRecorder(container) && (container.args ?? []).includes('serve')) {
    const address = flagValue(container, 'address', configMaps) ?? ':8090';
    if (!/^(127\.[0-9.]+|localhost|\[::1\]):[0-9]+$/.test(address)) {
      problems.push(`${where}: recorder serve with --auth off listens on ${address}, not loopback (it would refuse to start)`);
    }
  }
}

// NATS files (TLS CA, client certificate and key, credentials) as the executables will see them: each set one
// is a file of a Secret volume, mounted read-only.
const NATS_FILE_FLAGS = ['nats-ca', 'nats-cert', 'nats-key', 'nats-creds'];
function checkNatsFiles(where, template, container, configMaps, problems) {
  const volumes = new Map((template.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
  for (const flag of NATS_FILE_FLAGS) {
    const file = flagValue(container, flag, configMaps);
    if (!file) continue;
    const mount = (container.volumeMounts ?? []).find((candidate) => file.startsWith(`${candidate.mountPath.replace(/\/$/, '')}/`));
    if (!mount) problems.push(`${where}: --${flag} ${file} is not under a volume mount`);
    else if (!volumes.get(mount.name)?.secret) problems.push(`${where}: --${flag} ${file} is not from a Secret volume`);
    else if (mount.readOnly !== true) problems.push(`${where}: --${flag} ${file} is on a mount that is not read-only`);
  }
}

// Labels that change with the chart's version: on a pod template they restart every pod on a chart-only
// upgrade (and disconnect every client).
const CHART_VERSION_LABELS = ['helm.sh/chart'];

export async function check(objects) {
  const problems = [];
  const byKind = (kind) => objects.filter((object) => object.kind === kind);
  const configMaps = new Map(byKind('ConfigMap').map((object) => [object.metadata.name, object]));
  const workloads = objects.filter((object) => WORKLOAD_KINDS.has(object.kind));
  const services = byKind('Service');

  const seen = new Set();
  for (const object of objects) {
    const where = nameOf(object);
    if (!object.apiVersion || !object.kind || !object.metadata?.name) {
      problems.push(`${where}: apiVersion, kind and metadata.name are required`);
      continue;
    }
    const key = `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (seen.has(key)) problems.push(`${where}: rendered twice`);
    seen.add(key);

    const Model = await modelFor(object.apiVersion, object.kind);
    if (!Model) {
      problems.push(`${where}: no model for ${object.apiVersion} ${object.kind}`);
    } else {
      try {
        new Model(object).validate();
      } catch (error) {
        problems.push(`${where}: schema: ${error.message}`);
      }
    }
    const labels = object.metadata.labels ?? {};
    if (object.kind !== 'Namespace' && !labels['app.kubernetes.io/name']) {
      problems.push(`${where}: label app.kubernetes.io/name missing`);
    }
  }

  for (const workload of workloads) {
    const where = nameOf(workload);
    const template = podTemplate(workload);
    const podLabels = template.metadata?.labels ?? {};
    const selector = workload.spec?.selector?.matchLabels;
    if (workload.kind !== 'Pod' && workload.kind !== 'Job' && workload.kind !== 'CronJob') {
      if (!selector || Object.keys(selector).length === 0) problems.push(`${where}: empty selector`);
      else if (!labelsMatch(selector, podLabels)) problems.push(`${where}: selector does not match the pod template's labels`);
    }
    const podSecurity = template.spec?.securityContext ?? {};
    if (podSecurity.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
    if (template.spec?.automountServiceAccountToken !== false) {
      problems.push(`${where}: automountServiceAccountToken is not false (nothing here calls the API)`);
    }
    const containers = [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
    if (containers.length === 0) problems.push(`${where}: no containers`);
    for (const container of containers) {
      const at = `${where} container ${container.name}`;
      checkContainerSecurity(at, container, podSecurity, problems);
      checkResources(at, container, problems);
      if (LONG_RUNNING_KINDS.has(workload.kind) && (template.spec?.containers ?? []).includes(container)) {
        checkProbes(at, container, problems);
      }
      if (LONG_RUNNING_KINDS.has(workload.kind) && isAggregator(container)) {
        checkAggregatorGrace(at, template, container, configMaps, problems);
      }
      if (LONG_RUNNING_KINDS.has(workload.kind) && (isAggregator(container) || isRecorder(container))) {
        checkAccessControl(at, template, container, configMaps, problems);
        checkNatsFiles(at, template, container, configMaps, problems);
      }
      for (const source of container.envFrom ?? []) {
        const name = source.configMapRef?.name;
        if (name && !configMaps.has(name) && source.configMapRef.optional !== true) {
          problems.push(`${at}: envFrom ConfigMap ${name} is not rendered`);
        }
      }
      const volumes = new Set((template.spec?.volumes ?? []).map((volume) => volume.name));
      const claims = new Set((workload.spec?.volumeClaimTemplates ?? []).map((claim) => claim.metadata?.name));
      for (const mount of container.volumeMounts ?? []) {
        if (!volumes.has(mount.name) && !claims.has(mount.name)) problems.push(`${at}: mounts unknown volume ${mount.name}`);
      }
    }
    // Configuration changes must roll the pods: a checksum annotation (helm) or a generated name with a
    // content hash (kustomize's configMapGenerator).
    const usedConfigMaps = new Set();
    for (const container of containers) {
      for (const source of container.envFrom ?? []) if (source.configMapRef?.name) usedConfigMaps.add(source.configMapRef.name);
    }
    for (const volume of template.spec?.volumes ?? []) if (volume.configMap?.name) usedConfigMaps.add(volume.configMap.name);
    const hasChecksum = Object.keys(template.metadata?.annotations ?? {}).some((key) => key.startsWith('checksum/'));
    for (const name of usedConfigMaps) {
      if (!hasChecksum && !/-[a-z0-9]{10}$/.test(name)) {
        problems.push(`${where}: uses ConfigMap ${name} without a checksum annotation or a hashed name (changes would not roll the pods)`);
      }
    }
    for (const volume of template.spec?.volumes ?? []) {
      if (volume.configMap?.name && !configMaps.has(volume.configMap.name)) {
        problems.push(`${where}: volume ${volume.name} uses ConfigMap ${volume.configMap.name}, not rendered`);
      }
    }
    if (workload.kind === 'StatefulSet') {
      const governing = services.find((service) => service.metadata.name === workload.spec?.serviceName);
      if (!governing) problems.push(`${where}: serviceName ${workload.spec?.serviceName} is not a rendered Service`);
      else if (governing.spec?.clusterIP !== 'None') problems.push(`${where}: governing Service ${governing.metadata.name} is not headless`);
    }
  }

  const podsOf = (selector) =>
    workloads.filter((workload) => workload.kind !== 'Job' && workload.kind !== 'CronJob' &&
      !(workload.kind === 'Pod' && workload.metadata?.annotations?.['helm.sh/hook']) &&
      labelsMatch(selector, podTemplate(workload).metadata?.labels));

  for (const service of services) {
    const where = nameOf(service);
    const selector = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) {
      problems.push(`${where}: no selector`);
      continue;
    }
    const targets = podsOf(selector);
    if (targets.length === 0) {
      problems.push(`${where}: selector matches no pod template`);
      continue;
    }
    for (const port of service.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      for (const workload of targets) {
        const ports = (podTemplate(workload).spec?.containers ?? []).flatMap((container) => container.ports ?? []);
        const found = typeof target === 'string'
          ? ports.some((containerPort) => containerPort.name === target)
          : ports.some((containerPort) => containerPort.containerPort === target);
        if (!found) problems.push(`${where}: port ${port.name ?? port.port} targets ${target}, not a port of ${nameOf(workload)}'s containers`);
      }
    }
  }

  for (const policy of byKind('NetworkPolicy')) {
    const where = nameOf(policy);
    const selected = podsOf(policy.spec?.podSelector?.matchLabels);
    if (selected.length === 0) {
      problems.push(`${where}: podSelector matches no pod template`);
      continue;
    }
    for (const rule of policy.spec?.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port !== 'string') continue;
        for (const workload of selected) {
          const ports = (podTemplate(workload).spec?.containers ?? []).flatMap((container) => container.ports ?? []);
          if (!ports.some((containerPort) => containerPort.name === port.port)) {
            problems.push(`${where}: ingress port ${port.port} is not a port of ${nameOf(workload)}'s containers`);
          }
        }
      }
    }
  }

  for (const budget of byKind('PodDisruptionBudget')) {
    if (podsOf(budget.spec?.selector?.matchLabels).length === 0) problems.push(`${nameOf(budget)}: selector matches no pod template`);
  }

  const autoscaled = new Set(byKind('HorizontalPodAutoscaler').map((hpa) => `${hpa.spec?.scaleTargetRef?.kind}/${hpa.spec?.scaleTargetRef?.name}`));
  for (const workload of workloads.filter((object) => LONG_RUNNING_KINDS.has(object.kind))) {
    const where = nameOf(workload);
    const template = podTemplate(workload);
    const podLabels = template.metadata?.labels ?? {};
    for (const label of CHART_VERSION_LABELS) {
      if (podLabels[label] !== undefined) {
        problems.push(`${where}: pod template carries ${label} (a chart-only upgrade would restart every pod)`);
      }
    }
    // Several replicas: a node drain must not evict them all at once.
    const replicated = workload.kind === 'Deployment' && (autoscaled.has(where) || (workload.spec?.replicas ?? 1) > 1);
    if (replicated && !byKind('PodDisruptionBudget').some((budget) => labelsMatch(budget.spec?.selector?.matchLabels, podLabels))) {
      problems.push(`${where}: no PodDisruptionBudget selects its pods`);
    }
    // Spreading counts the pods its selector matches: exactly the workload's own.
    const selector = workload.spec?.selector?.matchLabels ?? {};
    for (const constraint of template.spec?.topologySpreadConstraints ?? []) {
      const spread = constraint.labelSelector?.matchLabels ?? {};
      if (JSON.stringify(Object.entries(spread).sort()) !== JSON.stringify(Object.entries(selector).sort())) {
        problems.push(`${where}: topologySpreadConstraints (${constraint.topologyKey}) labelSelector ${JSON.stringify(spread)} ` +
                      `is not the workload's selector ${JSON.stringify(selector)}`);
      }
    }
  }

  // /metrics, /healthz and /readyz stay inside the cluster: no Service that is reachable from outside it
  // (LoadBalancer, NodePort) may route to a metrics port.
  for (const service of services.filter((candidate) => ['LoadBalancer', 'NodePort'].includes(candidate.spec?.type))) {
    for (const port of service.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const metricsPorts = podsOf(service.spec?.selector).flatMap((workload) =>
        (podTemplate(workload).spec?.containers ?? []).flatMap((container) => container.ports ?? []))
        .filter((containerPort) => containerPort.name === 'metrics');
      if (port.name === 'metrics' || metricsPorts.some((containerPort) => containerPort.name === target || containerPort.containerPort === target)) {
        problems.push(`${nameOf(service)}: type ${service.spec.type} exposes the metrics port (${port.name ?? port.port})`);
      }
    }
  }

  for (const route of byKind('HTTPRoute')) {
    const where = nameOf(route);
    if ((route.spec?.parentRefs ?? []).length === 0) problems.push(`${where}: no parentRefs (attached to no Gateway)`);
    for (const rule of route.spec?.rules ?? []) {
      for (const backend of rule.backendRefs ?? []) {
        const service = services.find((candidate) => candidate.metadata.name === backend.name);
        if (!service) problems.push(`${where}: backend Service ${backend.name} is not rendered`);
        else if (!(service.spec?.ports ?? []).some((port) => port.port === backend.port)) {
          problems.push(`${where}: backend port ${backend.port} is not a port of ${nameOf(service)}`);
        } else if ((service.spec?.ports ?? []).some((port) => port.port === backend.port && port.name === 'metrics')) {
          problems.push(`${where}: routes to the metrics port of ${nameOf(service)}`);
        }
      }
    }
  }

  for (const autoscaler of byKind('HorizontalPodAutoscaler')) {
    const ref = autoscaler.spec?.scaleTargetRef ?? {};
    const target = objects.find((object) => object.kind === ref.kind && object.metadata.name === ref.name);
    if (!target) problems.push(`${nameOf(autoscaler)}: scaleTargetRef ${ref.kind}/${ref.name} is not rendered`);
    else if (target.spec?.replicas !== undefined) {
      problems.push(`${nameOf(target)}: sets replicas although ${nameOf(autoscaler)} owns the count`);
    }
    if (!((autoscaler.spec?.minReplicas ?? 1) <= (autoscaler.spec?.maxReplicas ?? 0))) {
      problems.push(`${nameOf(autoscaler)}: minReplicas exceeds maxReplicas`);
    }
  }

  for (const monitor of byKind('ServiceMonitor')) {
    const where = nameOf(monitor);
    const selected = services.filter((service) => labelsMatch(monitor.spec?.selector?.matchLabels, service.metadata.labels));
    if (selected.length === 0) {
      problems.push(`${where}: selects no Service`);
      continue;
    }
    for (const service of selected) {
      if ((service.spec?.type ?? 'ClusterIP') !== 'ClusterIP') {
        problems.push(`${where}: scrapes ${nameOf(service)} of type ${service.spec.type} (metrics belong on a ClusterIP Service)`);
      }
    }
    for (const endpoint of monitor.spec?.endpoints ?? []) {
      if (!selected.some((service) => (service.spec?.ports ?? []).some((port) => port.name === endpoint.port))) {
        problems.push(`${where}: endpoint port ${endpoint.port} is on none of the selected Services`);
      }
    }
  }

  for (const ingress of byKind('Ingress')) {
    for (const rule of ingress.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend?.service ?? {};
        const service = services.find((candidate) => candidate.metadata.name === backend.name);
        if (!service) {
          problems.push(`${nameOf(ingress)}: backend Service ${backend.name} is not rendered`);
        } else if (backend.port?.name && !(service.spec?.ports ?? []).some((port) => port.name === backend.port.name)) {
          problems.push(`${nameOf(ingress)}: backend port ${backend.port.name} is not a port of ${nameOf(service)}`);
        }
      }
    }
  }
  return problems;
}

// Self-test: each mutation breaks one rule on a copy of the objects; the checks must report it.
const MUTATIONS = [
  ['schema: containerPort as text', 'schema', (objects) => {
    firstContainer(objects, 'Deployment').ports[0].containerPort = 'eighty';
  }],
  ['Service selector off the pods', 'selector matches no pod template', (objects) => {
    const service = objects.find((object) => object.kind === 'Service' && object.spec?.clusterIP !== 'None');
    service.spec.selector['app.kubernetes.io/component'] = 'nothing';
  }],
  ['named targetPort missing from the container', 'not a port of', (objects) => {
    firstContainer(objects, 'Deployment').ports[0].name = 'renamed';
  }],
  ['readinessProbe removed', 'readinessProbe not set', (objects) => {
    delete firstContainer(objects, 'Deployment').readinessProbe;
  }],
  ['probe on an unknown port', 'not a named port', (objects) => {
    firstContainer(objects, 'Deployment').livenessProbe.httpGet.port = 'nope';
  }],
  ['memory limit removed', 'resources.limits.memory not set', (objects) => {
    delete firstContainer(objects, 'Deployment').resources.limits;
  }],
  ['runAsNonRoot false', 'runAsNonRoot is not true', (objects) => {
    const deployment = objects.find((object) => object.kind === 'Deployment');
    deployment.spec.template.spec.securityContext.runAsNonRoot = false;
    firstContainer(objects, 'Deployment').securityContext.runAsNonRoot = false;
  }],
  ['writable root filesystem', 'readOnlyRootFilesystem is not true', (objects) => {
    firstContainer(objects, 'Deployment').securityContext.readOnlyRootFilesystem = false;
  }],
  ['capabilities kept', 'capabilities.drop lacks ALL', (objects) => {
    firstContainer(objects, 'Deployment').securityContext.capabilities.drop = [];
  }],
  ['grace period shorter than the drain', 'does not exceed', (objects) => {
    objects.find((object) => object.kind === 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 12;
  }],
  ['Deployment selector off its template', 'selector does not match', (objects) => {
    objects.find((object) => object.kind === 'Deployment').spec.selector.matchLabels.extra = 'x';
  }],
  ['auth key volume mount removed', 'is not under a volume mount', (objects) => {
    const container = firstContainer(objects, 'Deployment');
    container.volumeMounts = (container.volumeMounts ?? []).filter((mount) => mount.name !== 'auth-keys');
  }],
  ['auth key file mounted by subPath', 'mounted with subPath', (objects) => {
    const mount = firstContainer(objects, 'Deployment').volumeMounts.find((candidate) => candidate.name === 'auth-keys');
    mount.subPath = 'hmac-secret';
  }],
  ['recorder API on every interface with --auth off', 'not loopback', (objects) => {
    const recorder = firstContainer(objects, 'StatefulSet');
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === recorder.envFrom[0].configMapRef.name);
    configMap.data.OVALSTREAM_AUTH = 'off';
    recorder.args = recorder.args.map((arg) => (String(arg).startsWith('--address=') ? '--address=:8090' : arg));
  }],
  ['NetworkPolicy port not on the pods', 'is not a port of', (objects) => {
    objects.find((object) => object.kind === 'NetworkPolicy').spec.ingress[0].ports[0].port = 'websockets';
  }],
  ['NetworkPolicy selecting nothing', 'podSelector matches no pod template', (objects) => {
    objects.find((object) => object.kind === 'NetworkPolicy').spec.podSelector.matchLabels['app.kubernetes.io/component'] = 'x';
  }],
  ['pod template with the chart version', 'pod template carries helm.sh/chart', (objects) => {
    objects.find((object) => object.kind === 'Deployment').spec.template.metadata.labels['helm.sh/chart'] = 'ovalstream-0.1.0';
  }],
  ['PodDisruptionBudget removed', 'no PodDisruptionBudget selects its pods', (objects) => {
    objects.splice(objects.findIndex((object) => object.kind === 'PodDisruptionBudget'), 1);
  }],
  ['topology spread over other pods', 'is not the workload\'s selector', (objects) => {
    const constraint = objects.find((object) => object.kind === 'Deployment').spec.template.spec.topologySpreadConstraints[0];
    delete constraint.labelSelector.matchLabels['app.kubernetes.io/instance'];
  }],
  ['metrics port on a LoadBalancer', 'exposes the metrics port', (objects) => {
    const service = objects.find((object) => object.kind === 'Service' && object.spec?.type === 'LoadBalancer');
    service.spec.ports.push({ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' });
  }],
  ['ServiceMonitor over the LoadBalancer', 'metrics belong on a ClusterIP Service', (objects) => {
    const service = objects.find((object) => object.kind === 'Service' && object.spec?.type === 'LoadBalancer');
    const monitor = objects.find((object) => object.kind === 'ServiceMonitor');
    Object.assign(service.metadata.labels, monitor.spec.selector.matchLabels);
  }],
  ['NATS TLS mount removed', '--nats-ca', (objects) => {
    const container = firstContainer(objects, 'Deployment');
    container.volumeMounts = container.volumeMounts.filter((mount) => mount.name !== 'nats-tls');
  }],
  ['NATS TLS mount writable', 'not read-only', (objects) => {
    firstContainer(objects, 'StatefulSet').volumeMounts.find((mount) => mount.name === 'nats-tls').readOnly = false;
  }],
  ['HTTPRoute to an unknown Service', 'backend Service', (objects) => {
    objects.find((object) => object.kind === 'HTTPRoute').spec.rules[0].backendRefs[0].name = 'nothing';
  }],
  ['HTTPRoute timeout malformed', 'schema', (objects) => {
    objects.find((object) => object.kind === 'HTTPRoute').spec.rules[0].timeouts.request = 'forever';
  }],
];

function firstContainer(objects, kind) {
  return objects.find((object) => object.kind === kind).spec.template.spec.containers[0];
}

async function selfTest(objects) {
  const failures = [];
  for (const [name, expected, mutate] of MUTATIONS) {
    const copy = structuredClone(objects);
    mutate(copy);
    const problems = await check(copy);
    if (!problems.some((problem) => problem.includes(expected))) {
      failures.push(`mutation "${name}" not reported (expected "${expected}"; got: ${problems.join('; ') || 'nothing'})`);
    } else {
      console.log(`validate: mutation "${name}" reported`);
    }
  }
  return failures;
}

async function main() {
  const args = process.argv.slice(2);
  let expectKinds = [];
  let mutations = false;
  let file;
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--expect-kinds') expectKinds = args[++i].split(',').filter(Boolean);
    else if (args[i] === '--mutations') mutations = true;
    else file = args[i];
  }
  if (!file) {
    console.error('usage: node validate.mjs [--expect-kinds K,K] [--mutations] FILE.yaml');
    return 2;
  }
  const documents = tools.parseAllDocuments(readFileSync(file, 'utf8'));
  const objects = [];
  for (const document of documents) {
    if (document.errors.length > 0) {
      console.error(`validate: ${file}: YAML: ${document.errors.map((error) => error.message).join('; ')}`);
      return 1;
    }
    const object = document.toJS();
    if (object !== null && object !== undefined) objects.push(object);
  }
  if (objects.length === 0) {
    console.error(`validate: ${file}: no objects`);
    return 1;
  }
  const problems = await check(objects);
  const kinds = new Set(objects.map((object) => object.kind));
  for (const kind of expectKinds) if (!kinds.has(kind)) problems.push(`expected a ${kind}, none rendered`);
  if (mutations) problems.push(...(await selfTest(objects)));
  for (const problem of problems) console.error(`validate: ${file}: ${problem}`);
  console.log(`validate: ${file}: ${objects.length} objects (${[...kinds].sort().join(', ')}), ` +
              `${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
