"""Operating the service: metrics, health, logs, backups."""
