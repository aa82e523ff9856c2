"""`flytekit.extras`: the accelerator constants (`plait.extras.accelerators`) and the shell task
(`plait.extras.tasks.shell`), where Flyte programs import them."""
