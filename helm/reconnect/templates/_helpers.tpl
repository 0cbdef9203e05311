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
{{- if and (eq .Values.audit.persistence.type "pvc") (or .Values.autoscaling.enabled (gt $replicas 1)) -}}
{{- fail "audit.persistence.type=pvc holds one SQLite audit store, written by one replica: keep replicaCount 1 and autoscaling off, or use emptyDir (a trail per pod, for evaluation only)" -}}
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

{{/* Where the rule sets are mounted (or bundled in the image). */}}
{{- define "reconnect.rulesDir" -}}
{{- if or .Values.rules.files .Values.rules.existingConfigMap -}}
/etc/reconnect/rules
{{- else -}}
/opt/reconnect/rules/reconnect
{{- end -}}
{{- end -}}
