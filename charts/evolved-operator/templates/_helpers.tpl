{{- define "evolved-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "evolved-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "evolved-operator.labels" -}}
{{ include "evolved-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: evolved-pipelines
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "evolved-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "evolved-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator's rules (generated, _rules.tpl), without Secrets unless rbac.readSecrets. */}}
{{- define "evolved-operator.roleRules" -}}
{{- $rules := fromYamlArray (include "evolved-operator.rules" .) -}}
{{- $out := list -}}
{{- range $rules -}}
{{- if and (has "secrets" .resources) (not $.Values.rbac.readSecrets) -}}
{{- $rest := without .resources "secrets" -}}
{{- if $rest -}}
{{- $out = append $out (dict "apiGroups" .apiGroups "resources" $rest "verbs" .verbs) -}}
{{- end -}}
{{- else -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}
