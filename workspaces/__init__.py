"""plait.workspaces: code-server workspace lifecycle, used by the backend."""
