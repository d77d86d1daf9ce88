"""Deduplication parts the dedup stage is built from: text fingerprints and the windowed signature store."""
