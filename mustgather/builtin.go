package mustgather

import "k8s.io/apimachinery/pkg/runtime/schema"

// builtinKind is a kind the Kubernetes API server serves itself, with what its discovery says of it.
type builtinKind struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	short      []string
	categories []string
}

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

var (
	catAll = []string{"all"}
	catExt = []string{"api-extensions"}
)

// builtinResources are the kinds a kube-apiserver serves (at their preferred versions), with their
// short names and categories. They are always discoverable, so that `get pods` in a namespace the
// archive lacks says "No resources found" as a live cluster would, instead of "no such resource type".
var builtinResources = []builtinKind{
	{gvr("", "v1", "pods"), "Pod", true, []string{"po"}, catAll},
	{gvr("", "v1", "services"), "Service", true, []string{"svc"}, catAll},
	{gvr("", "v1", "replicationcontrollers"), "ReplicationController", true, []string{"rc"}, catAll},
	{gvr("", "v1", "configmaps"), "ConfigMap", true, []string{"cm"}, nil},
	{gvr("", "v1", "secrets"), "Secret", true, nil, nil},
	{gvr("", "v1", "events"), "Event", true, []string{"ev"}, nil},
	{gvr("", "v1", "serviceaccounts"), "ServiceAccount", true, []string{"sa"}, nil},
	{gvr("", "v1", "endpoints"), "Endpoints", true, []string{"ep"}, nil},
	{gvr("", "v1", "persistentvolumeclaims"), "PersistentVolumeClaim", true, []string{"pvc"}, nil},
	{gvr("", "v1", "podtemplates"), "PodTemplate", true, nil, nil},
	{gvr("", "v1", "resourcequotas"), "ResourceQuota", true, []string{"quota"}, nil},
	{gvr("", "v1", "limitranges"), "LimitRange", true, []string{"limits"}, nil},
	{gvr("", "v1", "namespaces"), "Namespace", false, []string{"ns"}, nil},
	{gvr("", "v1", "nodes"), "Node", false, []string{"no"}, nil},
	{gvr("", "v1", "persistentvolumes"), "PersistentVolume", false, []string{"pv"}, nil},
	{gvr("", "v1", "componentstatuses"), "ComponentStatus", false, []string{"cs"}, nil},
	{gvr("apps", "v1", "deployments"), "Deployment", true, []string{"deploy"}, catAll},
	{gvr("apps", "v1", "replicasets"), "ReplicaSet", true, []string{"rs"}, catAll},
	{gvr("apps", "v1", "statefulsets"), "StatefulSet", true, []string{"sts"}, catAll},
	{gvr("apps", "v1", "daemonsets"), "DaemonSet", true, []string{"ds"}, catAll},
	{gvr("apps", "v1", "controllerrevisions"), "ControllerRevision", true, nil, nil},
	{gvr("batch", "v1", "jobs"), "Job", true, nil, catAll},
	{gvr("batch", "v1", "cronjobs"), "CronJob", true, []string{"cj"}, catAll},
	{gvr("autoscaling", "v2", "horizontalpodautoscalers"), "HorizontalPodAutoscaler", true, []string{"hpa"}, catAll},
	{gvr("coordination.k8s.io", "v1", "leases"), "Lease", true, nil, nil},
	{gvr("discovery.k8s.io", "v1", "endpointslices"), "EndpointSlice", true, nil, nil},
	{gvr("events.k8s.io", "v1", "events"), "Event", true, []string{"ev"}, nil},
	{gvr("networking.k8s.io", "v1", "ingresses"), "Ingress", true, []string{"ing"}, nil},
	{gvr("networking.k8s.io", "v1", "networkpolicies"), "NetworkPolicy", true, []string{"netpol"}, nil},
	{gvr("networking.k8s.io", "v1", "ingressclasses"), "IngressClass", false, nil, nil},
	{gvr("networking.k8s.io", "v1", "ipaddresses"), "IPAddress", false, []string{"ip"}, nil},
	{gvr("networking.k8s.io", "v1", "servicecidrs"), "ServiceCIDR", false, nil, nil},
	{gvr("policy", "v1", "poddisruptionbudgets"), "PodDisruptionBudget", true, []string{"pdb"}, nil},
	{gvr("rbac.authorization.k8s.io", "v1", "roles"), "Role", true, nil, nil},
	{gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), "RoleBinding", true, nil, nil},
	{gvr("rbac.authorization.k8s.io", "v1", "clusterroles"), "ClusterRole", false, nil, nil},
	{gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), "ClusterRoleBinding", false, nil, nil},
	{gvr("storage.k8s.io", "v1", "storageclasses"), "StorageClass", false, []string{"sc"}, nil},
	{gvr("storage.k8s.io", "v1", "volumeattachments"), "VolumeAttachment", false, nil, nil},
	{gvr("storage.k8s.io", "v1", "csidrivers"), "CSIDriver", false, nil, nil},
	{gvr("storage.k8s.io", "v1", "csinodes"), "CSINode", false, nil, nil},
	{gvr("storage.k8s.io", "v1", "csistoragecapacities"), "CSIStorageCapacity", true, nil, nil},
	{gvr("storage.k8s.io", "v1", "volumeattributesclasses"), "VolumeAttributesClass", false, []string{"vac"}, nil},
	{gvr("scheduling.k8s.io", "v1", "priorityclasses"), "PriorityClass", false, []string{"pc"}, nil},
	{gvr("node.k8s.io", "v1", "runtimeclasses"), "RuntimeClass", false, nil, nil},
	{gvr("certificates.k8s.io", "v1", "certificatesigningrequests"), "CertificateSigningRequest", false, []string{"csr"}, nil},
	{gvr("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"), "MutatingWebhookConfiguration", false, nil, catExt},
	{gvr("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"), "ValidatingWebhookConfiguration", false, nil, catExt},
	{gvr("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies"), "ValidatingAdmissionPolicy", false, nil, catExt},
	{gvr("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings"), "ValidatingAdmissionPolicyBinding", false, nil, catExt},
	{gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "CustomResourceDefinition", false, []string{"crd", "crds"}, catExt},
	{gvr("apiregistration.k8s.io", "v1", "apiservices"), "APIService", false, nil, catExt},
	{gvr("flowcontrol.apiserver.k8s.io", "v1", "flowschemas"), "FlowSchema", false, nil, nil},
	{gvr("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations"), "PriorityLevelConfiguration", false, nil, nil},
	{gvr("resource.k8s.io", "v1", "deviceclasses"), "DeviceClass", false, nil, nil},
	{gvr("resource.k8s.io", "v1", "resourceclaims"), "ResourceClaim", true, nil, nil},
	{gvr("resource.k8s.io", "v1", "resourceclaimtemplates"), "ResourceClaimTemplate", true, nil, nil},
	{gvr("resource.k8s.io", "v1", "resourceslices"), "ResourceSlice", false, nil, nil},
}

// builtinFor returns the built-in kind of a group resource, or nil.
func builtinFor(gr schema.GroupResource) *builtinKind {
	for i := range builtinResources {
		if builtinResources[i].gvr.GroupResource() == gr {
			return &builtinResources[i]
		}
	}
	return nil
}

// knownKinds are custom kinds common in the archives this server reads (OCM, OpenShift), for when an
// archive holds their objects but not their CRDs.
var knownKinds = []builtinKind{
	{gvr("cluster.open-cluster-management.io", "v1", "managedclusters"), "ManagedCluster", false, []string{"mcl", "mcls"}, nil},
	{gvr("route.openshift.io", "v1", "routes"), "Route", true, nil, nil},
	{gvr("config.openshift.io", "v1", "clusteroperators"), "ClusterOperator", false, []string{"co"}, nil},
	{gvr("config.openshift.io", "v1", "clusterversions"), "ClusterVersion", false, nil, nil},
	{gvr("machine.openshift.io", "v1beta1", "machines"), "Machine", true, []string{"machine"}, nil},
	{gvr("machine.openshift.io", "v1beta1", "machinesets"), "MachineSet", true, nil, nil},
}

// knownKindFor returns the known custom kind of a group resource, or nil.
func knownKindFor(gr schema.GroupResource) *builtinKind {
	for i := range knownKinds {
		if knownKinds[i].gvr.GroupResource() == gr {
			return &knownKinds[i]
		}
	}
	return nil
}
