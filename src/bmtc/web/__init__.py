"""The dashboard: server-rendered pages over the same store and engines as the API."""
