"""The running service: the ASGI app and `run` (serve, deliver, jobs), prefork workers, `status`."""
