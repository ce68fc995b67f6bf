"""ISO 20022 messages for settlement (a subset of sese.023 with its own XSD)."""
