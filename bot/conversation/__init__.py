"""The conversation: one inbound event applied in one transaction (engine, turn), the owner's and
the officer's sides, and the form runner that asks a flow's steps."""
