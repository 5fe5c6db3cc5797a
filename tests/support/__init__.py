"""Helpers shared by the test suite: servers, databases, tenants, scripted model servers, clients."""
