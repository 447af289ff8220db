{{/*
Names, labels, images and the router URLs shared by every template.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "ocs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; component names are appended to it, so it stays short. */}}
{{- define "ocs.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: ocs.componentName (dict "root" $ "component" "registry"). */}}
{{- define "ocs.componentName" -}}
{{- printf "%s-%s" (include "ocs.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ocs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "ocs.labels" -}}
helm.sh/chart: {{ include "ocs.chart" . }}
{{ include "ocs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ocs
{{- end -}}

{{- define "ocs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component: ocs.componentLabels (dict "root" $ "component" "registry"). */}}
{{- define "ocs.componentLabels" -}}
{{ include "ocs.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ocs.componentSelectorLabels" -}}
{{ include "ocs.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference: ocs.image (dict "root" $ "image" .image). Tag defaults to appVersion. */}}
{{- define "ocs.image" -}}
{{- $registry := .root.Values.global.imageRegistry | default "" | trimSuffix "/" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* In-cluster host name of the router Service. */}}
{{- define "ocs.routerHost" -}}
{{- printf "%s.%s.svc" (include "ocs.componentName" (dict "root" . "component" "router")) .Release.Namespace -}}
{{- end -}}

{{/* The site's WebSocket URL (hub.wamp_server). */}}
{{- define "ocs.wampServer" -}}
{{- if .Values.router.enabled -}}
{{- printf "ws://%s:%d/%s" (include "ocs.routerHost" .) (int .Values.router.port) .Values.router.wsPath -}}
{{- else -}}
{{- required "site.externalHub.wampServer is required when router.enabled is false" .Values.site.externalHub.wampServer -}}
{{- end -}}
{{- end -}}

{{/* The site's HTTP caller bridge URL (hub.wamp_http). */}}
{{- define "ocs.wampHttp" -}}
{{- if .Values.router.enabled -}}
{{- printf "http://%s:%d/%s" (include "ocs.routerHost" .) (int .Values.router.port) .Values.router.callPath -}}
{{- else -}}
{{- required "site.externalHub.wampHttp is required when router.enabled is false" .Values.site.externalHub.wampHttp -}}
{{- end -}}
{{- end -}}

{{/* Name of the site config ConfigMap. */}}
{{- define "ocs.siteConfigName" -}}
{{- include "ocs.componentName" (dict "root" . "component" "site") -}}
{{- end -}}

{{/*
The `arguments` list of one agent instance in the site config:
ocs.agentArguments (dict "root" $ "name" "aggregator" "agent" $agent).
The chart adds the options that tie an agent to its volumes and services.
*/}}
{{- define "ocs.agentArguments" -}}
{{- $a := .agent -}}
{{- $args := list -}}
{{- range ($a.args | default list) -}}
{{- $args = append $args (toString .) -}}
{{- end -}}
{{- if $a.persistence -}}
{{- if $a.persistence.argument -}}
{{- $args = concat $args (list $a.persistence.argument $a.persistence.mountPath) -}}
{{- end -}}
{{- end -}}
{{- with $a.influxdb -}}
{{- $args = concat $args (list "--api" .api "--database" .database "--protocol" .protocol) -}}
{{- if .url -}}
{{- $args = concat $args (list "--url" .url) -}}
{{- else -}}
{{- $args = concat $args (list "--host" .host "--port" (toString (int .port))) -}}
{{- end -}}
{{- if .org -}}
{{- $args = concat $args (list "--org" .org) -}}
{{- end -}}
{{- $args = concat $args (list "--ssl" (toString .ssl) "--verify-ssl" (toString .verifySsl) "--gzip" (toString .gzip)) -}}
{{- end -}}
{{- if $a.spool -}}
{{- if $a.spool.enabled -}}
{{- $args = concat $args (list "--spool-dir" $a.spool.mountPath) -}}
{{- end -}}
{{- end -}}
{{- if $a.accessConfigSecret -}}
{{- $args = concat $args (list "--config-file" (printf "%s/%s" $a.accessConfigSecret.mountPath $a.accessConfigSecret.key)) -}}
{{- end -}}
{{- toYaml $args -}}
{{- end -}}

{{/*
The site config (a dict), made from values: the hub section and one host
entry (site.host) listing every enabled agent (manage: ignore, since
Kubernetes runs them) plus the instances a HostManager runs in its pod.
Fails on two agents with one instance-id.
*/}}
{{- define "ocs.siteConfig" -}}
{{- $root := . -}}
{{- $hub := dict "wamp_server" (include "ocs.wampServer" .) "wamp_http" (include "ocs.wampHttp" .) "wamp_realm" .Values.site.realm "address_root" .Values.site.addressRoot -}}
{{- if .Values.site.accessPolicy -}}
{{- $_ := set $hub "access_policy" .Values.site.accessPolicy -}}
{{- end -}}
{{- $instances := list -}}
{{- $seen := dict -}}
{{- range $name, $a := .Values.agents -}}
{{- if $a.enabled -}}
{{- if hasKey $seen $a.instanceId -}}
{{- fail (printf "agents.%s.instanceId %q is already used by agents.%s; every agent needs its own instance-id" $name $a.instanceId (get $seen $a.instanceId)) -}}
{{- end -}}
{{- $_ := set $seen $a.instanceId $name -}}
{{- $arguments := include "ocs.agentArguments" (dict "root" $root "name" $name "agent" $a) | fromYamlArray -}}
{{- $instances = append $instances (dict "agent-class" $a.agentClass "instance-id" $a.instanceId "arguments" $arguments "manage" "ignore") -}}
{{- range ($a.managedInstances | default list) -}}
{{- $id := index . "instance-id" -}}
{{- if hasKey $seen $id -}}
{{- fail (printf "agents.%s.managedInstances: instance-id %q is already used by agents.%s" $name $id (get $seen $id)) -}}
{{- end -}}
{{- $_ := set $seen $id (printf "%s.managedInstances" $name) -}}
{{- $instances = append $instances (merge (dict) . (dict "manage" "host/up")) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $hosts := dict .Values.site.host (dict "agent-instances" $instances) -}}
{{- toYaml (dict "hub" $hub "hosts" $hosts) -}}
{{- end -}}
