"""API gateway algorithms: rate policies, adaptive concurrency, read cache, threat detection.

Pure libraries; the HTTP middleware that uses them lives in entrypoints/http/gateway_*.py.
"""
