{{/*
The chart's name, truncated to 63 characters (a DNS label).
*/}}
{{- define "ovalstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: release and chart name, or fullnameOverride. Truncated to 63 characters; the component
suffixes below keep the names within 63 when the full name is shorter than 52.
*/}}
{{- define "ovalstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "ovalstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object except pod templates (pods get ovalstream.podLabels: a chart-only upgrade must not
change them, or every pod would restart and every client would be disconnected).
*/}}
{{- define "ovalstream.labels" -}}
helm.sh/chart: {{ include "ovalstream.chart" . }}
{{ include "ovalstream.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ovalstream
{{- end }}

{{/*
Selector labels: the release's objects (both components).
*/}}
{{- define "ovalstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ovalstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per component: the aggregator's and the recorder's names and selector labels.
*/}}
{{- define "ovalstream.aggregator.fullname" -}}
{{- printf "%s-aggregator" (include "ovalstream.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "ovalstream.recorder.fullname" -}}
{{- printf "%s-recorder" (include "ovalstream.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The labels of a component's pod template: its selector labels and the app version, nothing that changes with
the chart's version. Call with (dict "component" "aggregator"|"recorder" "extra" .Values.podLabels "context" $).
*/}}
{{- define "ovalstream.podLabels" -}}
{{ include (printf "ovalstream.%s.selectorLabels" .component) .context }}
{{- with .context.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The metrics Services' names (ClusterIP, port "metrics" only), within 63 characters.
*/}}
{{- define "ovalstream.aggregator.metricsServiceName" -}}
{{- printf "%s-aggregator-metrics" (include "ovalstream.fullname" . | trunc 44 | trimSuffix "-") }}
{{- end }}

{{- define "ovalstream.recorder.metricsServiceName" -}}
{{- printf "%s-recorder-metrics" (include "ovalstream.fullname" . | trunc 46 | trimSuffix "-") }}
{{- end }}

{{/*
The label that marks the metrics Services, which the ServiceMonitor selects.
*/}}
{{- define "ovalstream.metricsServiceLabel" -}}
ovalstream.io/service: metrics
{{- end }}

{{- define "ovalstream.aggregator.selectorLabels" -}}
{{ include "ovalstream.selectorLabels" . }}
app.kubernetes.io/component: aggregator
{{- end }}

{{- define "ovalstream.recorder.selectorLabels" -}}
{{ include "ovalstream.selectorLabels" . }}
app.kubernetes.io/component: recorder
{{- end }}

{{/*
The service account's name.
*/}}
{{- define "ovalstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ovalstream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository@digest when a digest is set (the tag is then ignored), otherwise repository
and tag, the tag defaulting to the chart's appVersion.
Call with (dict "image" .Values.image "context" $).
*/}}
{{- define "ovalstream.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .context.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
The aggregator's terminationGracePeriodSeconds: longer than preStop sleep + drain delay + drain, so the
kubelet never kills a pod that is still draining.
*/}}
{{- define "ovalstream.aggregator.terminationGracePeriodSeconds" -}}
{{- $a := .Values.aggregator }}
{{- $needed := add $a.preStopSleepSeconds $a.drainDelaySeconds $a.drainSeconds }}
{{- if $a.terminationGracePeriodSeconds }}
{{- if le (int $a.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "aggregator.terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + drainDelaySeconds + drainSeconds (%v)" $a.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- int $a.terminationGracePeriodSeconds }}
{{- else }}
{{- add $needed 10 }}
{{- end }}
{{- end }}

{{/*
NATS settings shared by both components, as ConfigMap data (OVALSTREAM_* variables).
*/}}
{{- define "ovalstream.natsConfig" -}}
OVALSTREAM_NATS_URL: {{ required "nats.url is required" .Values.nats.url | quote }}
OVALSTREAM_STREAM: {{ .Values.nats.stream | quote }}
OVALSTREAM_NATS_TLS: {{ .Values.nats.tls.enabled | toString | quote }}
{{- with .Values.nats.tls.secretName }}
{{- $tls := $.Values.nats.tls }}
{{- if not $tls.enabled }}
{{- fail "nats.tls.secretName is set but nats.tls.enabled is false: set nats.tls.enabled=true (or drop the Secret)" }}
{{- end }}
{{- if and $tls.certKey (not $tls.keyKey) }}
{{- fail "nats.tls.certKey needs nats.tls.keyKey (the client certificate's private key)" }}
{{- end }}
{{- if and $tls.keyKey (not $tls.certKey) }}
{{- fail "nats.tls.keyKey needs nats.tls.certKey (the client certificate)" }}
{{- end }}
{{- with $tls.caKey }}
OVALSTREAM_NATS_CA: {{ printf "/etc/ovalstream/nats-tls/%s" . | quote }}
{{- end }}
{{- with $tls.certKey }}
OVALSTREAM_NATS_CERT: {{ printf "/etc/ovalstream/nats-tls/%s" . | quote }}
{{- end }}
{{- with $tls.keyKey }}
OVALSTREAM_NATS_KEY: {{ printf "/etc/ovalstream/nats-tls/%s" . | quote }}
{{- end }}
{{- end }}
OVALSTREAM_CREATE_STREAM: {{ .Values.nats.createStream | toString | quote }}
{{- if .Values.nats.credentials.existingSecret }}
OVALSTREAM_NATS_CREDS: {{ printf "/etc/ovalstream/nats/%s" .Values.nats.credentials.key | quote }}
{{- end }}
{{- end }}

{{/*
NATS user name and password from an existing Secret, as container env entries.
*/}}
{{- define "ovalstream.natsAuthEnv" -}}
{{- with .Values.nats.auth.existingSecret }}
- name: OVALSTREAM_NATS_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.nats.auth.usernameKey }}
- name: OVALSTREAM_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.nats.auth.passwordKey }}
{{- end }}
{{- end }}

{{/*
The NATS credentials file (nats.credentials.existingSecret) and TLS files (nats.tls.secretName): volumes
and mounts, each Secret mounted whole and read-only.
*/}}
{{- define "ovalstream.natsCredentialsVolume" -}}
{{- with .Values.nats.credentials.existingSecret }}
- name: nats-credentials
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- with .Values.nats.tls.secretName }}
- name: nats-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "ovalstream.natsCredentialsMount" -}}
{{- if .Values.nats.credentials.existingSecret }}
- name: nats-credentials
  mountPath: /etc/ovalstream/nats
  readOnly: true
{{- end }}
{{- if .Values.nats.tls.secretName }}
- name: nats-tls
  mountPath: /etc/ovalstream/nats-tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
Access control of one component, called with (dict "mode" "off"|"required" "origins" [...] "component" name
"context" $). The key files come from auth.existingSecret, mounted (whole, not by subPath, so that a change
of the Secret reaches the files) at /etc/ovalstream/auth. "required" without a key is refused here rather
than by a crash-looping pod.
*/}}
{{- define "ovalstream.authConfig" -}}
{{- $auth := .context.Values.auth -}}
OVALSTREAM_AUTH: {{ .mode | quote }}
{{- with .origins }}
OVALSTREAM_ALLOWED_ORIGINS: {{ join "," . | quote }}
{{- end }}
{{- if eq .mode "required" }}
{{- if not $auth.existingSecret }}
{{- fail (printf "%s.auth is required: set auth.existingSecret (a Secret holding the keys) with auth.hmacSecretKey or auth.publicKeysKey" .component) }}
{{- end }}
{{- if not (or $auth.hmacSecretKey $auth.publicKeysKey) }}
{{- fail (printf "%s.auth is required: set auth.hmacSecretKey or auth.publicKeysKey (keys of auth.existingSecret)" .component) }}
{{- end }}
{{- with $auth.hmacSecretKey }}
OVALSTREAM_AUTH_HMAC_SECRET_FILE: {{ printf "/etc/ovalstream/auth/%s" . | quote }}
{{- end }}
{{- with $auth.publicKeysKey }}
OVALSTREAM_AUTH_PUBLIC_KEYS: {{ printf "/etc/ovalstream/auth/%s" . | quote }}
{{- end }}
{{- with $auth.audience }}
OVALSTREAM_AUTH_AUDIENCE: {{ . | quote }}
{{- end }}
OVALSTREAM_AUTH_CLOCK_SKEW: {{ $auth.clockSkew | quote }}
{{- end }}
{{- end }}

{{/*
The auth keys' volume and mount, when the component's mode (the argument) is "required".
*/}}
{{- define "ovalstream.authVolume" -}}
{{- if eq .mode "required" }}
- name: auth-keys
  secret:
    secretName: {{ .context.Values.auth.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "ovalstream.authMount" -}}
{{- if eq .mode "required" }}
- name: auth-keys
  mountPath: /etc/ovalstream/auth
  readOnly: true
{{- end }}
{{- end }}

{{/*
NetworkPolicy egress of both components: NATS and DNS only.
*/}}
{{- define "ovalstream.networkPolicyEgress" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    {{- toYaml $np.natsTo | nindent 4 }}
  ports:
    - port: {{ $np.natsPort }}
      protocol: TCP
- to:
    {{- toYaml $np.dnsTo | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/*
A component's config checksum: over the data of its own ConfigMap only (not its labels, which carry the chart
version), so a chart-only upgrade keeps the pods and a change of one component's settings rolls that
component only. Call with the ConfigMap data's template name.
*/}}
{{- define "ovalstream.configChecksum" -}}
{{- include .name .context | sha256sum }}
{{- end }}

{{/*
The aggregator's ConfigMap data (OVALSTREAM_* variables).
*/}}
{{- define "ovalstream.aggregator.configData" -}}
{{- $a := .Values.aggregator -}}
{{ include "ovalstream.natsConfig" . }}
OVALSTREAM_HUB_ADDRESS: {{ printf ":%v" $a.hubPort | quote }}
OVALSTREAM_METRICS_ADDRESS: {{ printf ":%v" $a.metricsPort | quote }}
OVALSTREAM_DRAIN_DELAY: {{ printf "%vs" $a.drainDelaySeconds | quote }}
OVALSTREAM_DRAIN_SECONDS: {{ $a.drainSeconds | quote }}
OVALSTREAM_MAX_CONNECTIONS: {{ $a.maxConnections | quote }}
OVALSTREAM_CLIENT_QUEUE_BYTES: {{ int64 $a.clientQueueBytes | quote }}
OVALSTREAM_HISTORY: {{ $a.history | quote }}
OVALSTREAM_IDLE_DROP: {{ $a.idleDrop | quote }}
OVALSTREAM_MAX_COMPETITIONS: {{ $a.maxCompetitions | quote }}
{{- with $a.filter }}
OVALSTREAM_FILTER: {{ join "," . | quote }}
{{- end }}
OVALSTREAM_DEBUG: {{ $a.debug | toString | quote }}
{{ include "ovalstream.authConfig" (dict "mode" $a.auth "origins" $a.allowedOrigins "component" "aggregator" "context" $) }}
{{- end }}

{{/*
The recorder's ConfigMap data.
*/}}
{{- define "ovalstream.recorder.configData" -}}
{{ include "ovalstream.natsConfig" . }}
{{ include "ovalstream.authConfig" (dict "mode" .Values.recorder.auth "origins" .Values.recorder.allowedOrigins "component" "recorder" "context" $) }}
{{- end }}

{{/*
Soft topology spread of the aggregator's pods over each key of topologySpread.topologyKeys, the label
selector being the pods' own selector labels; then topologySpreadConstraints verbatim.
*/}}
{{- define "ovalstream.aggregator.topologySpreadConstraints" -}}
{{- $spread := .Values.topologySpread -}}
{{- if $spread.enabled }}
{{- range $spread.topologyKeys }}
- maxSkew: {{ $spread.maxSkew }}
  topologyKey: {{ . }}
  whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "ovalstream.aggregator.selectorLabels" $ | nindent 6 }}
{{- end }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
{{ toYaml . }}
{{- end }}
{{- end }}
