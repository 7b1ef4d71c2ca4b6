// Command msa-agent runs the managed-serviceaccount add-on agent for one spoke of the test fleet.
//
// It wires the upstream agent's own reconciler (TokenReconciler) and health lease exactly as the upstream
// binary does, minus the upstream health server, which binds a fixed port (:8000) and so allows only one
// agent per host. Each spoke gets its own msa-agent process, which the fleet can stop and start.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	authv1beta1 "open-cluster-management.io/managed-serviceaccount/apis/authentication/v1beta1"
	"open-cluster-management.io/managed-serviceaccount/pkg/addon/agent/controller"
	"open-cluster-management.io/managed-serviceaccount/pkg/addon/agent/health"
	"open-cluster-management.io/managed-serviceaccount/pkg/common"
)

func main() {
	var clusterName, hubKubeconfig, spokeKubeconfig, namespace string
	flag.StringVar(&clusterName, "cluster-name", "", "managed cluster name")
	flag.StringVar(&hubKubeconfig, "hub-kubeconfig", "", "the add-on's hub kubeconfig")
	flag.StringVar(&spokeKubeconfig, "spoke-kubeconfig", "", "the spoke's kubeconfig")
	flag.StringVar(&namespace, "namespace", "open-cluster-management-agent-addon", "add-on install namespace on the spoke")
	klog.InitFlags(nil)
	flag.Parse()
	if err := run(clusterName, hubKubeconfig, spokeKubeconfig, namespace); err != nil {
		fmt.Fprintln(os.Stderr, "msa-agent:", err)
		os.Exit(1)
	}
}

func run(clusterName, hubKubeconfig, spokeKubeconfig, namespace string) error {
	ctrl.SetLogger(klog.Background())
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	hubCfg, err := clientcmd.BuildConfigFromFlags("", hubKubeconfig)
	if err != nil {
		return fmt.Errorf("hub kubeconfig: %w", err)
	}
	spokeCfg, err := clientcmd.BuildConfigFromFlags("", spokeKubeconfig)
	if err != nil {
		return fmt.Errorf("spoke kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := authv1beta1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(hubCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		// Like the upstream agent: watch only this cluster's namespace on the hub.
		Cache: cache.Options{DefaultNamespaces: map[string]cache.Config{clusterName: {}}},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	hubNative, err := kubernetes.NewForConfig(hubCfg)
	if err != nil {
		return err
	}
	spokeNative, err := kubernetes.NewForConfig(spokeCfg)
	if err != nil {
		return err
	}
	spokeCache, err := cache.New(spokeCfg, cache.Options{
		Scheme: scheme,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ServiceAccount{}: {Namespaces: map[string]cache.Config{namespace: {
				LabelSelector: labels.SelectorFromSet(labels.Set{common.LabelKeyIsManagedServiceAccount: "true"}),
			}}},
		},
	})
	if err != nil {
		return fmt.Errorf("spoke cache: %w", err)
	}
	if err := mgr.Add(spokeCache); err != nil {
		return err
	}
	reconciler := &controller.TokenReconciler{
		Cache:             mgr.GetCache(),
		HubClient:         mgr.GetClient(),
		HubNativeClient:   hubNative,
		SpokeNamespace:    namespace,
		SpokeClientConfig: spokeCfg,
		SpokeNativeClient: spokeNative,
		ClusterName:       clusterName,
		SpokeCache:        spokeCache,
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("token reconciler: %w", err)
	}
	lease, err := health.NewAddonHealthUpdater(hubCfg, clusterName, spokeCfg, namespace)
	if err != nil {
		return fmt.Errorf("health lease: %w", err)
	}
	go lease.Start(ctx)
	return mgr.Start(ctx)
}
