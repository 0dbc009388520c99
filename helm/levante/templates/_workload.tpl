{{/*
The Deployment, HorizontalPodAutoscaler and PodDisruptionBudget of one Levante
service. Call with (dict "root" $ "component" NAME "values" VALUES "args" LIST
"env" LIST "rest" BOOL "terminationGracePeriodSeconds" INT).
*/}}
{{- define "levante.workload" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $name := printf "%s-%s" (include "levante.fullname" $root) .component }}
{{- $labels := dict "root" $root "component" .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "levante.labels" $labels | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "levante.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "levante.selectorLabels" $labels | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- include "levante.meshLabels" $root | nindent 8 }}
      annotations:
        {{- include "levante.configChecksums" $root | nindent 8 }}
        {{- include "levante.meshAnnotations" $root | nindent 8 }}
        {{- if .rest }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $root.Values.ports.rest | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "levante.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "levante.podSecurityContext" dict | nindent 8 }}
      terminationGracePeriodSeconds: {{ .terminationGracePeriodSeconds }}
      {{- include "levante.affinity" (dict "root" $root "component" .component "values" $v) | nindent 6 }}
      containers:
        - name: levante
          image: {{ include "levante.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          ports:
            - name: grpc
              containerPort: {{ $root.Values.ports.grpc }}
              protocol: TCP
            {{- if .rest }}
            - name: http
              containerPort: {{ $root.Values.ports.rest }}
              protocol: TCP
            {{- end }}
          {{- include "levante.env" $root | nindent 10 }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "levante.grpcProbes" $root | nindent 10 }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "{{ $v.preStopSleepSeconds }}"]
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "levante.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            {{- include "levante.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "levante.volumes" $root | nindent 8 }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "levante.labels" $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    # Scale down slowly: every stopping pod drains its work first.
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Pods
          value: 1
          periodSeconds: 60
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "levante.labels" $labels | nindent 4 }}
spec:
  {{- if hasKey $v.podDisruptionBudget "minAvailable" }}
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "levante.selectorLabels" $labels | nindent 6 }}
{{- end }}
{{- end }}
