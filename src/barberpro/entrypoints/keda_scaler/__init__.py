"""BarberPro's KEDA external scaler: a gRPC server that tells KEDA how many API replicas to run."""
