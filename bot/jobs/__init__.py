"""Jobs of the worker loop (reminders, digests): they write to the outbox like everything else."""
