package kubectl

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// clusterMapper is one cluster's REST mapper: its current snapshot's. Reset (kubectl's answer to a type it
// does not know) invalidates the cluster's discovery, so the next question reads the cluster again.
type clusterMapper struct{ d *clusterDiscovery }

var _ meta.ResettableRESTMapper = clusterMapper{}

func (m clusterMapper) mapper() (meta.RESTMapper, error) {
	s, err := m.d.current()
	if err != nil {
		return nil, err
	}
	return s.restMapper(), nil
}

func (m clusterMapper) Reset() { m.d.Invalidate() }

func (m clusterMapper) KindFor(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	mp, err := m.mapper()
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return mp.KindFor(r)
}

func (m clusterMapper) KindsFor(r schema.GroupVersionResource) ([]schema.GroupVersionKind, error) {
	mp, err := m.mapper()
	if err != nil {
		return nil, err
	}
	return mp.KindsFor(r)
}

func (m clusterMapper) ResourceFor(r schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	mp, err := m.mapper()
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return mp.ResourceFor(r)
}

func (m clusterMapper) ResourcesFor(r schema.GroupVersionResource) ([]schema.GroupVersionResource, error) {
	mp, err := m.mapper()
	if err != nil {
		return nil, err
	}
	return mp.ResourcesFor(r)
}

func (m clusterMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mp, err := m.mapper()
	if err != nil {
		return nil, err
	}
	return mp.RESTMapping(gk, versions...)
}

func (m clusterMapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	mp, err := m.mapper()
	if err != nil {
		return nil, err
	}
	return mp.RESTMappings(gk, versions...)
}

func (m clusterMapper) ResourceSingularizer(resource string) (string, error) {
	mp, err := m.mapper()
	if err != nil {
		return "", err
	}
	return mp.ResourceSingularizer(resource)
}
