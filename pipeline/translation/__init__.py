"""What the translate stage is built from: providers, the cache, chunking and the call policy."""
