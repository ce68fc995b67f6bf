"""Machine learning for execution: training data, models, evaluation, the registry's CLI
(docs/ml.md). Needs the ``ml`` extra (scikit-learn, Polars); imported only by ``execflow ml``.
"""
