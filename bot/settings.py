"""Typed settings read from the environment (and `.env`); see DESIGN.md section 7."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/umkm.db"
    # PostgreSQL connections each process keeps (half as many more at a peak); processes x 1.5 x this + 1 each
    # must stay below the server's max_connections (100 by default)
    database_pool_size: int = 20
    media_dir: Path = Path("data/media")
    # Where photos are stored: empty for the folder MEDIA_DIR, or s3://bucket/prefix (S3-compatible storage).
    media_url: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://127.0.0.1:9000 for MinIO; empty for AWS
    s3_addressing_style: str = "auto"  # auto (path style with S3_ENDPOINT_URL), path or virtual
    aws_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    templates_dir: Path = ROOT / "templates"
    default_locale: str = "id"
    max_photo_bytes: int = 10 * 1024 * 1024
    # Largest webhook request body read (Meta documents payloads of up to 3 MB); larger ones get 413 unread.
    max_webhook_bytes: int = 3 * 1024 * 1024
    album_window_seconds: float = 2.0  # photos sent together within this get one reply

    log_format: Literal["text", "json"] = "text"  # text (one line per event) or json (one JSON object per line)
    log_level: str = "INFO"
    log_key: str | None = None  # keys the masked contact ids in logs (default: derived from the secrets)
    metrics_enabled: bool = True  # GET /metrics; turn off, or set METRICS_TOKEN, when the app faces the internet
    metrics_token: str | None = None  # when set, /metrics needs `Authorization: Bearer <token>`
    # Errors of `run` and `worker` go to Sentry (or a self-hosted Sentry/GlitchTip) when set; scrubbed as the logs.
    sentry_dsn: str | None = None
    sentry_environment: str | None = None  # e.g. production, staging (Sentry's default: production)

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
    whatsapp_template_reminder: str = ""  # a draft reminder outside the window; none: no WhatsApp reminder then
    whatsapp_template_broadcast: str = ""  # a siaran outside the window, its text as {{1}}; none: skipped then
    whatsapp_template_language: str = "id"
    # Invitation links for new officers (/dinas/admin/officers): the bot's @username (t.me/<it>?start=...) and the
    # WhatsApp number people write to (wa.me/<it>?text=...), digits with the country code.
    telegram_bot_username: str = ""
    whatsapp_display_number: str = ""

    # The officers' console (/dinas/): signs sign-in links and session cookies. Set it in production; when
    # unset, a key is derived from the other secrets (good enough for a local trial only).
    dinas_secret_key: str | None = None
    # The port `umkm-bot run` listens on; sign-in links use http://127.0.0.1:PORT when PUBLIC_URL is unset.
    web_port: int = 8080
    # Hosts of the INAPROC catalogue whose https:// product links an owner may send (comma-separated).
    catalogue_hosts: str = "katalog.inaproc.id"
    # Our categories mapped to INAPROC's, as imported by `umkm-bot catalogue categories --import FILE`; read instead
    # of the shipped bot/data/catalogue_categories.csv when the file exists (each process reads it once, at first use).
    catalogue_categories_file: Path = Path("data/catalogue_categories.csv")
