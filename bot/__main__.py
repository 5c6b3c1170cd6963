"""`python -m bot`: the same commands as `umkm-bot`."""

from bot.cli import app

app(prog_name="umkm-bot")
