package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Module versions whose CRDs the fleet installs; they match the binaries build-binaries.sh builds.
const (
	apiModule = "open-cluster-management.io/api@v1.3.0"
	ocmModule = "open-cluster-management.io/ocm@v1.2.1"
	msaModule = "open-cluster-management.io/managed-serviceaccount@v0.10.0"
	// The prometheus-operator release whose ServiceMonitor CRD the Helm chart's test installs (the newest
	// version of the repository's root module on the proxy).
	promOperatorModule = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
)

// ServiceMonitorCRD returns the path of the ServiceMonitor CRD (monitoring.coreos.com/v1) shipped in
// the prometheus-operator module.
func ServiceMonitorCRD(ctx context.Context) (string, error) {
	dir, err := moduleDir(ctx, promOperatorModule)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_servicemonitors.yaml"), nil
}

// moduleDir downloads (or finds in the module cache) a module at an exact version and returns its folder.
func moduleDir(ctx context.Context, modVersion string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir() // outside any module: an explicit version needs no go.mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GONOSUMDB=sigs.k8s.io/about-api")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	return info.Dir, nil
}

// ModuleRoot is the root of this repository's Go module (where go.mod is).
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ClusterPermissionCRD is the ClusterPermission CRD. No Go module ships it, so the fleet keeps its own
// in crds/ (override with FLEET_CLUSTERPERMISSION_CRD to test another copy).
func ClusterPermissionCRD() string {
	if p := os.Getenv("FLEET_CLUSTERPERMISSION_CRD"); p != "" {
		return p
	}
	return filepath.Join(ModuleRoot(), "test", "fleet", "crds", "clusterpermissions.yaml")
}

type crdSet struct{ hub, spoke []string }

func locateCRDs(ctx context.Context, withClusterPermission bool) (crdSet, error) {
	api, err := moduleDir(ctx, apiModule)
	if err != nil {
		return crdSet{}, err
	}
	ocm, err := moduleDir(ctx, ocmModule)
	if err != nil {
		return crdSet{}, err
	}
	msa, err := moduleDir(ctx, msaModule)
	if err != nil {
		return crdSet{}, err
	}
	in := func(dir string, files ...string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			out[i] = filepath.Join(dir, f)
		}
		return out
	}
	var s crdSet
	s.hub = append(s.hub, in(api,
		"cluster/v1/0000_00_clusters.open-cluster-management.io_managedclusters.crd.yaml",
		"cluster/v1beta2/0000_00_clusters.open-cluster-management.io_managedclustersets.crd.yaml",
		"cluster/v1beta2/0000_01_clusters.open-cluster-management.io_managedclustersetbindings.crd.yaml",
		"cluster/v1beta1/0000_02_clusters.open-cluster-management.io_placements.crd.yaml",
		"cluster/v1beta1/0000_03_clusters.open-cluster-management.io_placementdecisions.crd.yaml",
		"cluster/v1alpha1/0000_05_clusters.open-cluster-management.io_addonplacementscores.crd.yaml",
		"addon/v1beta1/0000_00_addon.open-cluster-management.io_clustermanagementaddons.crd.yaml",
		"addon/v1beta1/0000_01_addon.open-cluster-management.io_managedclusteraddons.crd.yaml",
		"addon/v1beta1/0000_02_addon.open-cluster-management.io_addondeploymentconfigs.crd.yaml",
		"addon/v1alpha1/0000_03_addon.open-cluster-management.io_addontemplates.crd.yaml",
		"work/v1/0000_00_work.open-cluster-management.io_manifestworks.crd.yaml",
	)...)
	s.hub = append(s.hub, filepath.Join(msa, "config/crd/bases/authentication.open-cluster-management.io_managedserviceaccounts.yaml"))
	if withClusterPermission {
		s.hub = append(s.hub, ClusterPermissionCRD())
	}
	s.spoke = append(in(api,
		"cluster/v1alpha1/0000_02_clusters.open-cluster-management.io_clusterclaims.crd.yaml",
		"work/v1/0000_01_work.open-cluster-management.io_appliedmanifestworks.crd.yaml",
	), filepath.Join(ocm, "manifests/klusterlet/managed/clusterproperties.crd.yaml"))
	for _, f := range append(append([]string{}, s.hub...), s.spoke...) {
		if _, err := os.Stat(f); err != nil {
			return crdSet{}, fmt.Errorf("CRD file missing: %w", err)
		}
	}
	return s, nil
}
