package notify

// Tailed counts the decisions the hub's tailer has read from the store.
func (h *Hub) Tailed() int64 { return h.tailed.Load() }
