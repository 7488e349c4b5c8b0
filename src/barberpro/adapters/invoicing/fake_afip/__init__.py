"""A fake AFIP (WSAA + WSFEv1) for tests and local development; see service.py."""
