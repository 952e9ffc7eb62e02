"""Network adapters: the one guarded fetcher, injected where remote documents are allowed."""
