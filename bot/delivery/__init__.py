"""Messages to people: the one outbox writer, and the deliverer that sends the outbox with the
channels' pacing, retries and outcomes."""
