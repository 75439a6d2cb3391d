"""pytest entry point (`pytest11: agentbay`): wires the plugin's hooks and fixtures."""
