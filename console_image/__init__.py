"""The console's container image (CPU only): Dockerfile, its ignore file and the entrypoint."""
