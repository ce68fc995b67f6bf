"""The model registry: versioned execution models in the data directory (docs/ml.md)."""
