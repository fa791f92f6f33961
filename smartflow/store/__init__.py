"""The Redis-backed store: binaries, configuration, starting and probing shards."""
