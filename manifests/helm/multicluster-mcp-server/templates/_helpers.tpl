{{/* The objects keep the kustomize manifests' names, so the ClusterRole's resourceNames (the server's
ManagedServiceAccount, ClusterPermission and token Secret, named by --msa-name) hold. */}}
{{- define "mcmcp.name" -}}multicluster-mcp-server{{- end -}}

{{- define "mcmcp.labels" -}}
app.kubernetes.io/name: {{ include "mcmcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "mcmcp.selector" -}}
app.kubernetes.io/name: {{ include "mcmcp.name" . }}
{{- end -}}

{{/* The Secret holding the session key replicas share, when there is more than one. */}}
{{- define "mcmcp.sessionKeySecret" -}}
{{- .Values.sessionKey.existingSecret | default (printf "%s-session-key" (include "mcmcp.name" .)) -}}
{{- end -}}

{{- define "mcmcp.validate" -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.telemetry.enabled) -}}
{{- fail "serviceMonitor.enabled needs telemetry.enabled: the ServiceMonitor scrapes the telemetry port" -}}
{{- end -}}
{{- if and .Values.clusterProxy.ca.configMap .Values.clusterProxy.ca.secret -}}
{{- fail "clusterProxy.ca: set configMap or secret, not both" -}}
{{- end -}}
{{- if and (or .Values.clusterProxy.ca.configMap .Values.clusterProxy.ca.secret) (not .Values.clusterProxy.url) -}}
{{- fail "clusterProxy.ca is set without clusterProxy.url" -}}
{{- end -}}
{{- end -}}
