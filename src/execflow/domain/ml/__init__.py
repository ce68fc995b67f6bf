"""Execution models, the pure half: feature definitions, the gradient-boosted tree evaluator
and the plain defaults the engine uses when no trained model is promoted (docs/ml.md)."""
