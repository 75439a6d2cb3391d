"""The AgentBay client: configuration, the two drivers and the thin sync/async facades."""
