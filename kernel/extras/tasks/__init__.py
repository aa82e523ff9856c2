"""`flytekit.extras.tasks`: the shell task (`plait.extras.tasks.shell`)."""
