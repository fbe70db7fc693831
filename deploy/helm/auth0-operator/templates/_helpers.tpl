{{- define "auth0-operator.labels" -}}
app.kubernetes.io/name: auth0-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "auth0-operator.selectorLabels" -}}
app.kubernetes.io/name: auth0-operator
{{- end -}}
