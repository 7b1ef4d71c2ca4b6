package ocm

// Where names the hub in messages.
func (h *Hub) Where() string { return "hub " + h.Name }
