"""The AgentBay wire protocol without I/O: encoding, the session lifecycle and the operations."""
