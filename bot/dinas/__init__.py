"""The Dinas officers' web console under /dinas/ (see bot/dinas/app.py for its routes)."""
