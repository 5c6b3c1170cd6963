"""Pure domain knowledge, no I/O: validators, Kemendagri regions, working days, channel-neutral messages."""
