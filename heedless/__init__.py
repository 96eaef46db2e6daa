"""The `heedless` command: the pipeline's commands and the servers behind one name."""
