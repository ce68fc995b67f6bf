"""Generated from ../execflow.proto by ``python -m execflow.api.grpc.codegen``: do not edit."""
