"""The inference worker that runs models and scripts next to each shard (onnxruntime)."""
