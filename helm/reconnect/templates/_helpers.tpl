{{- define "reconnect.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "reconnect.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "reconnect.labels" -}}
{{ include "reconnect.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "reconnect.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reconnect.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Settings that cannot work together are refused at render time. */}}
{{- define "reconnect.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- $sqlite := eq .Values.audit.type "sqlite" -}}
{{- if and $sqlite (eq .Values.audit.persistence.type "pvc") (or (include "reconnect.autoscaling" .) (gt $replicas 1)) -}}
{{- fail "audit.persistence.type=pvc holds one SQLite audit store, written by one replica: keep replicaCount 1 and autoscaling off, use audit.type=postgresql (one trail that replicas share), or use emptyDir (a trail per pod, for evaluation only)" -}}
{{- end -}}
{{- if and (not $sqlite) (empty .Values.audit.postgresql.secretName) -}}
{{- fail "audit.type=postgresql needs audit.postgresql.secretName, a Secret with the database's URI (key uri, no password) and password (key password)" -}}
{{- end -}}
{{- if and (not $sqlite) .Values.networkPolicy.enabled (empty .Values.audit.postgresql.peers) -}}
{{- fail "audit.type=postgresql with networkPolicy.enabled needs audit.postgresql.peers, where the database is (NetworkPolicyPeer objects): no egress is allowed otherwise" -}}
{{- end -}}
{{- if and (eq .Values.tls.clientCertificates "none") (not .Values.auth.jwt.enabled) -}}
{{- fail "with tls.clientCertificates=none, callers can only identify by bearer token: enable auth.jwt" -}}
{{- end -}}
{{- if and .Values.auth.jwt.enabled (or (empty .Values.auth.jwt.issuer) (empty .Values.auth.jwt.audience)) -}}
{{- fail "auth.jwt.enabled needs auth.jwt.issuer and auth.jwt.audience" -}}
{{- end -}}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.healthPort)) -}}
{{- fail "metrics.port and healthPort must differ: each is a listener of its own" -}}
{{- end -}}
{{- if and .Values.signOff.required (empty .Values.signOff.signersSecretName) -}}
{{- fail "signOff.required needs signOff.signersSecretName, the Secret with the signers' JWKS; on a test cluster with unsigned rule sets, set signOff.required to []" -}}
{{- end -}}
{{- if and .Values.rules.files .Values.rules.existingConfigMap -}}
{{- fail "give rules.files or rules.existingConfigMap, not both" -}}
{{- end -}}
{{- end -}}

{{/* "true" when the HPA scales the Deployment: autoscaling.enabled, or by
default with audit.type postgresql; "" otherwise. */}}
{{- define "reconnect.autoscaling" -}}
{{- if kindIs "invalid" .Values.autoscaling.enabled -}}
{{- if eq .Values.audit.type "postgresql" }}true{{ end -}}
{{- else if .Values.autoscaling.enabled -}}
true
{{- end -}}
{{- end -}}

{{/* Where the rule sets are mounted (or bundled in the image). */}}
{{- define "reconnect.rulesDir" -}}
{{- if or .Values.rules.files .Values.rules.existingConfigMap -}}
/etc/reconnect/rules
{{- else -}}
/opt/reconnect/rules/reconnect
{{- end -}}
{{- end -}}
