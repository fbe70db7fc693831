{{- /*
Names come from the release, so that two releases (say one per team namespace) never
collide: "<release>-auth0-operator", or the release name alone when it already holds the
chart's name (release "auth0-operator" renders the same names as deploy/base), or
fullnameOverride. Cluster-scoped objects (ClusterRoles, their bindings) carry the same name,
so two releases need two release names (or two fullnameOverrides).
*/ -}}
{{- define "auth0-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "auth0-operator.labels" -}}
{{ include "auth0-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "auth0-operator.selectorLabels" -}}
app.kubernetes.io/name: auth0-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- /* The Lease: leaseName, else the full name (two releases in one namespace never share it). */ -}}
{{- define "auth0-operator.leaseName" -}}
{{- .Values.leaseName | default (include "auth0-operator.fullname" .) -}}
{{- end -}}
