"""Typed settings read from the environment (and `.env`); see DESIGN.md section 7."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/umkm.db"
    media_dir: Path = Path("data/media")
    templates_dir: Path = ROOT / "templates"
    default_locale: str = "id"
    max_photo_bytes: int = 10 * 1024 * 1024
    max_text_chars: int = 4000

    delivery_base_delay: float = 30.0  # first retry after a failed send (doubling, at most hourly, for 48 h)
    delivery_probe_seconds: float = 30.0  # how often a channel paused by a configuration error is checked

    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    public_url: str | None = None
    telegram_rate: float = 30.0  # messages a second for the bot, across every process (Telegram's free limit)
    telegram_chat_rate: float = 1.0  # messages a second to one chat (Telegram asks for about one)

    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v23.0"
    whatsapp_rate: float = 80.0  # messages a second for the number, across every process (Cloud API default)
    whatsapp_chat_rate: float = 0.0  # messages a second to one person (0: no limit beyond one at a time)
    # Approved message templates sent outside the 24-hour window (empty: keep the message until they write).
    whatsapp_template_review_result: str = ""
    whatsapp_template_new_submission: str = ""
    whatsapp_template_language: str = "id"
