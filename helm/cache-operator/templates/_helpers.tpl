{{/* Chart name, overridable with nameOverride. */}}
{{- define "cache-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, plus the chart name unless the release already contains it. */}}
{{- define "cache-operator.fullname" -}}
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

{{/* Labels selecting the operator pods; never change between upgrades. */}}
{{- define "cache-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cache-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object the chart creates. */}}
{{- define "cache-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cache-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: cache-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "cache-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cache-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image, tag defaulting to the chart's appVersion. */}}
{{- define "cache-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
What the operator calls in the namespaces it watches, nothing more: the operator's OperatorPermissions, which a test
records from its calls (server-side apply creates, so create and patch; blockOwnerDeletion needs update on
cacheclusters/finalizers; stale finalizers are removed with a patch; drained shards' StatefulSets and budgets and, in a
rolling upgrade, pods are deleted; the rest goes by garbage collection). Secrets: get only (the spec.auth password, by
name), never list or watch.
*/}}
{{- define "cache-operator.workloadRules" -}}
- apiGroups: ["cacheoperator.io"]
  resources: ["cacheclusters"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["cacheoperator.io"]
  resources: ["cacheclusters/status"]
  verbs: ["update"]
- apiGroups: ["cacheoperator.io"]
  resources: ["cacheclusters/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "delete"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["get", "create", "patch"]
{{- end }}
