"""gRPC service: execflow.proto, code generated on first use (codegen.py), the servicer."""
