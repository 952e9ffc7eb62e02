"""Talking to other systems: webhooks (and, as they come, other badge platforms and wallets)."""
