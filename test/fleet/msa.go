package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
)

// The Secret the registration agent writes on the spoke once the add-on's hub CSR is signed.
const msaHubKubeconfigSecret = "managed-serviceaccount-hub-kubeconfig"

func (f *Fleet) createMSAClusterManagementAddOn(ctx context.Context) error {
	cma := &addonv1alpha1.ClusterManagementAddOn{
		ObjectMeta: metav1.ObjectMeta{Name: MSAAddonName},
		Spec: addonv1alpha1.ClusterManagementAddOnSpec{
			AddOnMeta: addonv1alpha1.AddOnMeta{DisplayName: "managed-serviceaccount", Description: "ManagedServiceAccount tokens for hub clients"},
			// Manual: the fleet enables it per cluster, the way `clusteradm addon enable` does.
			InstallStrategy: addonv1alpha1.InstallStrategy{Type: addonv1alpha1.AddonInstallStrategyManual},
		},
	}
	_, err := f.HubAddon.AddonV1alpha1().ClusterManagementAddOns().Create(ctx, cma, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ClusterManagementAddOn %s: %w", MSAAddonName, err)
	}
	return nil
}

// EnableMSA creates the managed-serviceaccount ManagedClusterAddOn in the cluster's namespace.
func (f *Fleet) EnableMSA(ctx context.Context, cluster string) error {
	cma, err := f.HubAddon.AddonV1alpha1().ClusterManagementAddOns().Get(ctx, MSAAddonName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	mca := &addonv1alpha1.ManagedClusterAddOn{
		ObjectMeta: metav1.ObjectMeta{
			Name: MSAAddonName, Namespace: cluster,
			// addon-framework acts only on add-ons owned by their ClusterManagementAddOn.
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: addonv1alpha1.GroupVersion.String(), Kind: "ClusterManagementAddOn",
				Name: cma.Name, UID: cma.UID,
			}},
		},
		// No install namespace: the default is open-cluster-management-agent-addon.
	}
	_, err = f.HubAddon.AddonV1alpha1().ManagedClusterAddOns(cluster).Create(ctx, mca, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("enabling %s on %s: %w", MSAAddonName, cluster, err)
	}
	return nil
}

// enableMSA enables the add-on on every spoke, starts each spoke's agent with the hub credential the
// add-on registration produced, and waits until the add-on reports Available.
func (f *Fleet) enableMSA(ctx context.Context, agentBin string) error {
	for _, s := range f.Managed() {
		if err := f.EnableMSA(ctx, s.ManagedClusterName()); err != nil {
			return err
		}
	}
	for _, s := range f.Managed() {
		kubeconfig, err := f.fetchAddonHubKubeconfig(ctx, s)
		if err != nil {
			return err
		}
		s.MSAAgent = newProcess(s.Name+"-msa-agent", agentBin, f.logDir,
			"--cluster-name="+s.ManagedClusterName(), "--hub-kubeconfig="+kubeconfig, "--spoke-kubeconfig="+s.Kubeconfig,
			"--namespace="+AgentAddonNamespace)
		// The add-on kubeconfig names its certificate files relative to its own folder.
		s.MSAAgent.dir = filepath.Dir(kubeconfig)
		if err := s.MSAAgent.Start(); err != nil {
			return err
		}
	}
	for _, s := range f.Managed() {
		if err := f.WaitAddonAvailable(ctx, s.ManagedClusterName(), MSAAddonName, 2*time.Minute); err != nil {
			return fmt.Errorf("%w\n%s", err, s.MSAAgent.Tail(2000))
		}
	}
	return nil
}

// fetchAddonHubKubeconfig waits for the add-on's hub kubeconfig Secret on the spoke and writes its files.
func (f *Fleet) fetchAddonHubKubeconfig(ctx context.Context, s *Cluster) (string, error) {
	dir := filepath.Join(f.Dir, s.Name+"-msa-hub-kubeconfig")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	var data map[string][]byte
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		sec, err := s.Kube.CoreV1().Secrets(AgentAddonNamespace).Get(ctx, msaHubKubeconfigSecret, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		data = sec.Data
		return len(data["kubeconfig"]) > 0 && len(data["tls.crt"]) > 0 && len(data["tls.key"]) > 0, nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: the add-on's hub kubeconfig Secret %s/%s never appeared: %w\n%s",
			s.Name, AgentAddonNamespace, msaHubKubeconfigSecret, err, s.RegistrationAgent.Tail(2000))
	}
	for name, content := range data {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "kubeconfig"), nil
}

// WaitAddonAvailable waits until the ManagedClusterAddOn's Available condition is True.
func (f *Fleet) WaitAddonAvailable(ctx context.Context, cluster, addon string, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		mca, err := f.HubAddon.AddonV1alpha1().ManagedClusterAddOns(cluster).Get(ctx, addon, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		c := meta.FindStatusCondition(mca.Status.Conditions, addonv1alpha1.ManagedClusterAddOnConditionAvailable)
		if c == nil {
			last = "no Available condition"
			return false, nil
		}
		last = fmt.Sprintf("%s (%s: %s)", c.Status, c.Reason, c.Message)
		return c.Status == metav1.ConditionTrue, nil
	})
	if err != nil {
		return fmt.Errorf("add-on %s on %s never became Available (last: %s): %w", addon, cluster, last, err)
	}
	return nil
}
