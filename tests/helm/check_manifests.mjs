// Checks rendered manifests for the hardening the chart promises.
//   node check_manifests.mjs RENDERED.yaml VALUE_SET_NAME
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// The YAML parser is installed into the build tree (tests/helm/setup.sh),
// whose npm prefix the caller names.
const require = createRequire(`${process.env.RECONNECT_HELM_NPM}/`);
const { parseAllDocuments } = require("yaml");

const [file, set] = process.argv.slice(2);
const docs = parseAllDocuments(readFileSync(file, "utf8"))
  .map((d) => d.toJS())
  .filter((d) => d && d.kind);
let problems = 0;
function check(ok, what) {
  if (!ok) {
    console.error(`  ${set}: ${what}`);
    problems++;
  }
}
const byKind = (kind) => docs.filter((d) => d.kind === kind);
const one = (kind) => {
  const found = byKind(kind);
  check(found.length === 1, `expected one ${kind}, found ${found.length}`);
  return found[0] ?? {};
};

// What each value set turns on.
const expect = {
  default: { hpa: false, jwt: false, rulesConfigMap: false, hmac: true, pvc: true, kubelet: false,
             metrics: true, scrapeAnnotations: true, podMonitor: false, signOff: true, postgresql: false },
  "mtls-jwt-values": { hpa: false, jwt: true, rulesConfigMap: true, hmac: true, pvc: true, kubelet: true,
                       metrics: false, scrapeAnnotations: false, podMonitor: false, signOff: true,
                       postgresql: false },
  "scale-values": { hpa: true, jwt: true, rulesConfigMap: false, hmac: false, pvc: false, kubelet: false,
                    metrics: true, scrapeAnnotations: false, podMonitor: true, signOff: false,
                    postgresql: false },
  "postgresql-values": { hpa: true, jwt: true, rulesConfigMap: false, hmac: true, pvc: false, kubelet: false,
                         metrics: true, scrapeAnnotations: true, podMonitor: false, signOff: true,
                         postgresql: true },
}[set];
check(expect !== undefined, `unknown value set ${set}`);

const deployment = one("Deployment");
const pod = deployment.spec?.template?.spec ?? {};
check(pod.automountServiceAccountToken === false, "pod mounts a service-account token");
check(pod.securityContext?.runAsNonRoot === true, "pod runAsNonRoot is not true");
check(pod.securityContext?.seccompProfile?.type === "RuntimeDefault", "pod seccomp is not RuntimeDefault");
check(Number.isInteger(pod.terminationGracePeriodSeconds), "no termination grace period");
const volumes = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
check((pod.containers ?? []).length > 0, "no containers");
for (const c of pod.containers ?? []) {
  const sc = c.securityContext ?? {};
  check(sc.runAsNonRoot === true, `${c.name}: runAsNonRoot is not true`);
  check(sc.readOnlyRootFilesystem === true, `${c.name}: root filesystem is writable`);
  check(sc.allowPrivilegeEscalation === false, `${c.name}: privilege escalation allowed`);
  check(sc.privileged !== true, `${c.name}: privileged`);
  check((sc.capabilities?.drop ?? []).includes("ALL"), `${c.name}: capabilities not all dropped`);
  check((sc.capabilities?.add ?? []).length === 0, `${c.name}: capabilities added`);
  for (const kind of ["requests", "limits"]) {
    for (const r of ["cpu", "memory"]) {
      check(c.resources?.[kind]?.[r] !== undefined, `${c.name}: resources.${kind}.${r} unset`);
    }
  }
  const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
  check(tmp && volumes[tmp.name]?.emptyDir !== undefined, `${c.name}: /tmp is not an emptyDir`);
  const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  check(ports.grpc && ports.health && ports.grpc !== ports.health, `${c.name}: grpc and health ports`);
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    check(c[probe]?.grpc?.port === ports.health, `${c.name}: ${probe} is not native gRPC on the health port`);
  }
  check(c.livenessProbe?.grpc?.service === "liveness", `${c.name}: liveness does not ask for "liveness"`);
  check(!c.readinessProbe?.grpc?.service, `${c.name}: readiness must ask for overall health`);
  const args = c.args ?? [];
  const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
  check(flag("health_listen") === `0.0.0.0:${ports.health}`, `${c.name}: --health_listen does not match the health port`);
  check(flag("listen") === `0.0.0.0:${ports.grpc}`, `${c.name}: --listen does not match the grpc port`);
  // Metrics on a port of their own, never the gRPC or health port.
  check(!!ports.metrics === expect.metrics, `${c.name}: metrics port ${expect.metrics ? "missing" : "unexpected"}`);
  check(flag("metrics_listen") === (expect.metrics ? `0.0.0.0:${ports.metrics}` : undefined),
        `${c.name}: --metrics_listen does not match the metrics port`);
  check(!expect.metrics || (ports.metrics !== ports.grpc && ports.metrics !== ports.health),
        `${c.name}: the metrics port shares a port`);
  check(flag("tls_cert") && flag("tls_key"), `${c.name}: TLS not configured`);
  check(!args.includes("--insecure"), `${c.name}: --insecure`);
  check(flag("policy"), `${c.name}: no --policy`);
  check(!!flag("jwks") === expect.jwt, `${c.name}: --jwks ${expect.jwt ? "missing" : "unexpected"}`);
  // Sign-off is required unless a test cluster turns it off.
  check(flag("require_signatures") === (expect.signOff ? "clinical_safety_officer,clinical_lead" : undefined),
        `${c.name}: --require_signatures ${expect.signOff ? "missing" : "unexpected"}`);
  check(flag("rule_signers") === (expect.signOff ? "/etc/reconnect/signers/signers.jwks.json" : undefined),
        `${c.name}: --rule_signers does not match the signers' mount`);
  check(!!flag("patient_ref_key") === expect.hmac, `${c.name}: --patient_ref_key ${expect.hmac ? "missing" : "unexpected"}`);
  if (expect.postgresql) {
    // The URI and the password from the Secret, the password in the
    // environment only; no audit volume.
    check(flag("audit") === "$(RECONNECT_AUDIT_URI)", `${c.name}: --audit is not the URI from the Secret`);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    check(env.RECONNECT_AUDIT_URI?.valueFrom?.secretKeyRef?.key === "uri", `${c.name}: the URI is not from a Secret`);
    check(env.PGPASSWORD?.valueFrom?.secretKeyRef?.key === "password", `${c.name}: PGPASSWORD is not from a Secret`);
    check(env.PGPASSWORD?.value === undefined, `${c.name}: the password is inlined`);
    check(!args.some((a) => a.includes("password")), `${c.name}: a password in the arguments`);
    check(!(c.volumeMounts ?? []).some((m) => m.name === "audit"), `${c.name}: an audit volume with PostgreSQL`);
  } else {
    check(flag("audit")?.startsWith("/var/lib/reconnect/"), `${c.name}: audit store not on its volume`);
  }
  check(!!c.image && !c.image.endsWith(":"), `${c.name}: image has no tag`);
}
const annotations = deployment.spec?.template?.metadata?.annotations ?? {};
const metricsPort = pod.containers?.[0]?.ports?.find((p) => p.name === "metrics")?.containerPort;
check((annotations["prometheus.io/scrape"] === "true") === expect.scrapeAnnotations, "scrape annotations");
if (expect.scrapeAnnotations) {
  check(annotations["prometheus.io/port"] === String(metricsPort), "prometheus.io/port is not the metrics port");
  check(annotations["prometheus.io/path"] === "/metrics", "prometheus.io/path is not /metrics");
}
const podMonitors = byKind("PodMonitor");
check(podMonitors.length === (expect.podMonitor ? 1 : 0), "PodMonitor");
for (const m of podMonitors) {
  const endpoints = m.spec?.podMetricsEndpoints ?? [];
  check(endpoints.length === 1 && endpoints[0].port === "metrics" && endpoints[0].path === "/metrics",
        "the PodMonitor does not scrape the metrics port's /metrics");
  const selected = m.spec?.selector?.matchLabels ?? {};
  const labels = deployment.spec?.template?.metadata?.labels ?? {};
  check(Object.keys(selected).length > 0 && Object.entries(selected).every(([k, v]) => labels[k] === v),
        "the PodMonitor does not select the chart's pods");
}

// Secrets are mounted, never inlined.
check(volumes.tls?.secret?.secretName, "TLS secret not mounted");
check(!!volumes.jwks?.secret?.secretName === expect.jwt, "JWKS secret mount");
check(!!volumes["rule-signers"]?.secret?.secretName === expect.signOff, "rule signers' JWKS secret mount");
check(!!volumes["patient-ref-key"]?.secret?.secretName === expect.hmac, "patient-ref key secret mount");
check(byKind("Secret").length === 0, "the chart must not create Secrets holding keys");
check(volumes.policy?.configMap?.name, "policy ConfigMap not mounted");
check(!!volumes.audit?.persistentVolumeClaim === expect.pvc, "audit volume type");
check(!!volumes.audit === !expect.postgresql, "an audit volume only for SQLite");
if (expect.postgresql) {
  // Spread over nodes, and not all of them down at once.
  const anti = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const labels = deployment.spec?.template?.metadata?.labels ?? {};
  check(anti.length === 1 && anti[0].podAffinityTerm?.topologyKey === "kubernetes.io/hostname" &&
        Object.entries(anti[0].podAffinityTerm?.labelSelector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
        "replicas are not spread over nodes by pod anti-affinity");
  check(deployment.spec?.strategy?.type !== "Recreate", "stateless replicas need no Recreate strategy");
}
check(byKind("PersistentVolumeClaim").length === (expect.pvc ? 1 : 0), "audit PVC");
if (expect.pvc) {
  check(deployment.spec?.strategy?.type === "Recreate", "a PVC-backed store needs the Recreate strategy");
}

const service = one("Service");
const healthPort = pod.containers?.[0]?.ports?.find((p) => p.name === "health")?.containerPort;
for (const p of service.spec?.ports ?? []) {
  check(p.targetPort !== "health" && p.targetPort !== healthPort && p.port !== healthPort,
        "the Service exposes the health port");
  check(p.targetPort !== "metrics" && (metricsPort === undefined || (p.targetPort !== metricsPort && p.port !== metricsPort)),
        "the Service exposes the metrics port");
}

const policyMaps = byKind("ConfigMap").filter((m) => m.data?.["policy.json"]);
check(policyMaps.length === 1, "no policy ConfigMap");
for (const m of policyMaps) {
  const policy = JSON.parse(m.data["policy.json"]);
  check(Array.isArray(policy.bindings), "policy.json has no bindings array");
}
const rulesMaps = byKind("ConfigMap").filter((m) => m.metadata.name.endsWith("-rules"));
check(rulesMaps.length === (expect.rulesConfigMap ? 1 : 0), "rules ConfigMap");
if (expect.rulesConfigMap) {
  const items = volumes.rules?.configMap?.items ?? [];
  check(items.length === Object.keys(rulesMaps[0].data).length, "rules volume items do not cover the ConfigMap");
  for (const it of items) {
    check(!it.key.includes("/") && it.path === it.key.replaceAll("__", "/"), `rules item ${it.key} -> ${it.path}`);
  }
}

const hpas = byKind("HorizontalPodAutoscaler");
check(hpas.length === (expect.hpa ? 1 : 0), "HPA");
if (expect.hpa) {
  check(hpas[0].spec?.scaleTargetRef?.name === deployment.metadata.name, "HPA does not target the Deployment");
  check(deployment.spec?.replicas === undefined, "replicas set while the HPA scales");
  check(hpas[0].spec?.minReplicas >= 2, "the HPA keeps fewer than 2 replicas");
}
const pdb = one("PodDisruptionBudget");
check(pdb.spec?.maxUnavailable !== undefined || pdb.spec?.minAvailable !== undefined, "PDB without a budget");

const sa = one("ServiceAccount");
check(sa.automountServiceAccountToken === false, "ServiceAccount mounts its token");
check(pod.serviceAccountName === sa.metadata.name, "pod does not use the chart's ServiceAccount");

const np = one("NetworkPolicy");
const types = np.spec?.policyTypes ?? [];
check(types.includes("Ingress") && types.includes("Egress"), "NetworkPolicy must govern ingress and egress");
if (expect.postgresql) {
  // The database's peers on its port, and DNS; nothing else.
  const egress = np.spec?.egress ?? [];
  check(egress.length === 2, `egress rules: ${egress.length}, expected the database and DNS`);
  check((egress[0]?.to ?? []).length > 0 && (egress[0]?.ports ?? []).length === 1 &&
        egress[0].ports[0].port === 5432, "egress to the database is not its peers on its port");
  check((egress[1]?.ports ?? []).every((p) => p.port === 53), "the DNS rule admits more than port 53");
} else {
  check((np.spec?.egress ?? []).length === 0, "egress allowed");
}
let healthRules = 0;
let metricsRules = 0;
for (const rule of np.spec?.ingress ?? []) {
  check(Array.isArray(rule.from) && rule.from.length > 0, "an ingress rule admits every peer");
  check(Array.isArray(rule.ports) && rule.ports.length > 0, "an ingress rule admits every port");
  if ((rule.ports ?? []).some((p) => p.port === "metrics" || p.port === metricsPort)) {
    metricsRules++;
    check(rule.ports.length === 1, "the metrics rule admits more than the metrics port");
  }
  if ((rule.ports ?? []).some((p) => p.port === "health" || p.port === healthPort)) {
    healthRules++;
    check((rule.from ?? []).every((f) => f.ipBlock && !f.podSelector && !f.namespaceSelector),
          "the health port is open to pods, not only to the nodes");
    check((rule.from ?? []).every((f) => f.ipBlock?.cidr !== "0.0.0.0/0"), "the health port is open to the world");
  }
}
check(healthRules === (expect.kubelet ? 1 : 0), "health-port rule");
check(metricsRules === (expect.metrics ? 1 : 0), "metrics-port rule");

if (problems > 0) {
  console.error(`${set}: ${problems} problem(s) in ${docs.length} manifests`);
  process.exit(1);
}
console.log(`${set}: ${docs.length} manifests checked`);
