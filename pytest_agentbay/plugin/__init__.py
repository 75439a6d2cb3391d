"""The pytest plugin: options, markers, fixtures, reporting."""
