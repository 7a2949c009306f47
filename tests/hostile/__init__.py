"""Bounded load and fault tests against real servers: soak, connection churn, broadcast with non-readers."""
