"""Every word a person reads: the template renderer, its neutral markup, and how stored answers are shown."""
