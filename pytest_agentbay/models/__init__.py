"""Pydantic models: request parameters, public results, and the wire envelope."""
