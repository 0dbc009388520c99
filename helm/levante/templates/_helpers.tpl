{{/* Names */}}
{{- define "levante.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "levante.fullname" -}}
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

{{- define "levante.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "levante.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "levante.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels: call with (dict "root" $ "component" "api") */}}
{{- define "levante.selectorLabels" -}}
app.kubernetes.io/name: {{ include "levante.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "levante.labels" -}}
{{ include "levante.selectorLabels" . }}
helm.sh/chart: {{ include "levante.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: levante
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "levante.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Addresses */}}
{{- define "levante.natsUrl" -}}
{{- if .Values.nats.url }}
{{- .Values.nats.url }}
{{- else if .Values.nats.enabled }}
{{- printf "nats://%s-nats:4222" (include "levante.fullname" .) }}
{{- else }}
{{- fail "Levante needs NATS: set nats.url to an existing NATS with JetStream, or nats.enabled=true" }}
{{- end }}
{{- end }}

{{- define "levante.streamReplicas" -}}
{{- if .Values.nats.streamReplicas }}
{{- .Values.nats.streamReplicas }}
{{- else if and .Values.nats.enabled (not .Values.nats.url) (not .Values.nats.existingSecret) (ge (int .Values.nats.replicas) 3) }}
{{- 3 }}
{{- else }}
{{- 1 }}
{{- end }}
{{- end }}

{{/* The Secret and key that hold the database URL. */}}
{{- define "levante.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- include "levante.fullname" . }}
{{- end }}
{{- end }}

{{- define "levante.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else }}
{{- "database-url" }}
{{- end }}
{{- end }}

{{/* "true" when the release runs its own PostgreSQL (no external database given). */}}
{{- define "levante.inChartPostgresql" -}}
{{- if and .Values.postgresql.enabled (not .Values.database.url) (not .Values.database.existingSecret) }}true{{ end }}
{{- end }}

{{- define "levante.checkDatabase" -}}
{{- if not (or .Values.database.url .Values.database.existingSecret .Values.postgresql.enabled) }}
{{- fail "Levante needs PostgreSQL: set database.url, database.existingSecret, or postgresql.enabled=true" }}
{{- end }}
{{- end }}

{{/*
The in-chart PostgreSQL password: the value given, else the one already in the
release's Secret (so upgrades keep it), else a new random one. Computed once
per render and kept in .Values so every template sees the same password.
*/}}
{{- define "levante.postgresqlPassword" -}}
{{- if not .Values.postgresql.auth.password }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "levante.fullname" .) }}
{{- if and $existing $existing.data (index $existing.data "postgresql-password") }}
{{- $_ := set .Values.postgresql.auth "password" (index $existing.data "postgresql-password" | b64dec) }}
{{- else }}
{{- $_ := set .Values.postgresql.auth "password" (randAlphaNum 32) }}
{{- end }}
{{- end }}
{{- .Values.postgresql.auth.password }}
{{- end }}

{{- define "levante.databaseUrl" -}}
{{- if .Values.database.url }}
{{- .Values.database.url }}
{{- else if include "levante.inChartPostgresql" . }}
{{- $auth := .Values.postgresql.auth }}
{{- printf "postgresql://%s:%s@%s-postgresql:5432/%s" $auth.username (include "levante.postgresqlPassword" . | urlquery) (include "levante.fullname" .) $auth.database }}
{{- end }}
{{- end }}

{{- define "levante.encryptionSecretName" -}}
{{- if .Values.encryption.existingSecret }}
{{- .Values.encryption.existingSecret }}
{{- else }}
{{- include "levante.fullname" . }}
{{- end }}
{{- end }}

{{/*
The encryption key of hidden values: the value given, else the one already in
the release's Secret (upgrades keep it: a new key could not open what the old
one sealed), else 32 random bytes as a Fernet key (URL-safe base64). Every pod
must share it, so it is never left for each pod to make up.
*/}}
{{- define "levante.encryptionKey" -}}
{{- if not .Values.encryption.key }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "levante.fullname" .) }}
{{- if and $existing $existing.data (index $existing.data "encryption-key") }}
{{- $_ := set .Values.encryption "key" (index $existing.data "encryption-key" | b64dec) }}
{{- else }}
{{- $_ := set .Values.encryption "key" (randBytes 32 | replace "+" "-" | replace "/" "_") }}
{{- end }}
{{- end }}
{{- .Values.encryption.key }}
{{- end }}

{{- define "levante.encryptionSecretKey" -}}
{{- if .Values.encryption.existingSecret }}
{{- .Values.encryption.existingSecretKey }}
{{- else }}
{{- "encryption-key" }}
{{- end }}
{{- end }}

{{- define "levante.tokensSecretName" -}}
{{- if .Values.auth.existingTokensSecret }}
{{- .Values.auth.existingTokensSecret }}
{{- else if .Values.auth.tokens }}
{{- include "levante.fullname" . }}
{{- end }}
{{- end }}

{{/* Mesh: annotations and labels every meshed pod gets. */}}
{{- define "levante.meshAnnotations" -}}
{{- if .Values.mesh.enabled }}
{{- if eq .Values.mesh.provider "istio" }}
proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'
{{- else if eq .Values.mesh.provider "linkerd" }}
linkerd.io/inject: enabled
{{- else }}
{{- fail "mesh.provider must be istio or linkerd" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "levante.meshLabels" -}}
{{- if and .Values.mesh.enabled (eq .Values.mesh.provider "istio") }}
sidecar.istio.io/inject: "true"
{{- end }}
{{- end }}

{{/*
Annotations that keep a run-to-completion pod (the migration Job) out of the
mesh: a sidecar that never exits would keep the Job running forever.
*/}}
{{- define "levante.meshJobAnnotations" -}}
{{- if and .Values.mesh.enabled (eq .Values.mesh.provider "linkerd") }}
linkerd.io/inject: disabled
{{- end }}
{{- end }}

{{- define "levante.meshJobLabels" -}}
{{- if and .Values.mesh.enabled (eq .Values.mesh.provider "istio") }}
sidecar.istio.io/inject: "false"
{{- end }}
{{- end }}

{{/* Security contexts: non-root, read-only root FS, no capabilities. */}}
{{- define "levante.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid | default 10001 }}
runAsGroup: {{ .uid | default 10001 }}
fsGroup: {{ .uid | default 10001 }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "levante.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end }}

{{/*
Scheduling: (dict "root" $ "component" NAME "values" COMPONENT_VALUES)
An explicit `affinity` wins; otherwise podAntiAffinity soft|hard|none spreads
the component's pods over nodes.
*/}}
{{- define "levante.affinity" -}}
{{- $v := .values }}
{{- if $v.affinity }}
affinity:
  {{- toYaml $v.affinity | nindent 2 }}
{{- else if eq (default "soft" $v.podAntiAffinity) "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "levante.selectorLabels" (dict "root" .root "component" .component) | nindent 12 }}
{{- else if eq (default "soft" $v.podAntiAffinity) "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "levante.selectorLabels" (dict "root" .root "component" .component) | nindent 14 }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
gRPC health probes on the service's gRPC port (grpc.health.v1). Readiness asks
for the overall status, NOT_SERVING while the database or NATS the service
needs is away; startup and liveness ask for `levante.process`, which stays
SERVING while the process is alive, so an outage of a dependency takes pods
out of rotation without restarting them.
*/}}
{{- define "levante.grpcProbes" -}}
startupProbe:
  grpc:
    port: {{ .Values.ports.grpc }}
    service: levante.process
  periodSeconds: 2
  failureThreshold: 90
readinessProbe:
  grpc:
    port: {{ .Values.ports.grpc }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
livenessProbe:
  grpc:
    port: {{ .Values.ports.grpc }}
    service: levante.process
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
{{- end }}

{{/* Environment of every Levante container. */}}
{{- define "levante.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "levante.fullname" . }}
  {{- with .Values.extraEnvFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
env:
  - name: POD_NAME
    valueFrom:
      fieldRef:
        fieldPath: metadata.name
  - name: LEVANTE_DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "levante.databaseSecretName" . }}
        key: {{ include "levante.databaseSecretKey" . }}
  {{- if .Values.nats.existingSecret }}
  - name: LEVANTE_NATS_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.nats.existingSecret }}
        key: {{ .Values.nats.existingSecretKey }}
  {{- end }}
  {{- if include "levante.encryptionSecretName" . }}
  - name: LEVANTE_ENCRYPTION_KEY
    valueFrom:
      secretKeyRef:
        name: {{ include "levante.encryptionSecretName" . }}
        key: {{ include "levante.encryptionSecretKey" . }}
  {{- end }}
  {{- if include "levante.tokensSecretName" . }}
  - name: LEVANTE_AUTH_TOKENS_FILE
    value: /etc/levante/auth/tokens
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* Volumes: writable scratch space on a read-only root FS, the tokens file. */}}
{{- define "levante.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
- name: data
  emptyDir:
    sizeLimit: 1Gi
{{- if include "levante.tokensSecretName" . }}
- name: auth-tokens
  secret:
    secretName: {{ include "levante.tokensSecretName" . }}
    items:
      - key: tokens
        path: tokens
{{- end }}
{{- end }}

{{- define "levante.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/levante
{{- if include "levante.tokensSecretName" . }}
- name: auth-tokens
  mountPath: /etc/levante/auth
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod annotations that roll the pods when their configuration changes. */}}
{{- define "levante.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
