"""gRPC service: execflow.proto, its generated modules committed in gen/ (codegen.py
regenerates and checks them), the servicer."""
