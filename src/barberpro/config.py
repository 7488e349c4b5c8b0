"""Settings: one typed object, read from the environment (prefix BARBERPRO_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARBERPRO_", extra="ignore")

    database_url: str = "sqlite:///./var/barberpro.db"
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    nats_url: str | None = None
    # Signs manage links and sessions. Required outside the embedded default, where a
    # random key is created once under var/ so that `make run` works on a fresh machine.
    secret_key: str | None = Field(default=None, min_length=32)
    var_dir: str = "./var"
    base_domain: str = "barberpro.localhost"  # tenants answer on {slug}.{base_domain}
    default_tenant: str | None = "demo"  # served when the Host names no tenant; empty disables
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True
    secure_cookies: bool = False  # True behind HTTPS
    outbox_poll_seconds: float = 0.5
    rate_limit_enabled: bool = True
    # API gateway (docs/gateway.md): tenant slug or host -> plan name ("standard", "pro").
    rate_limit_plans: dict[str, str] = {}
    rate_limit_policies: dict[str, str] = {}  # policy name -> "LIMIT/SECONDS[/BURST]" override
    load_shedding_enabled: bool = True
    read_cache_enabled: bool = True
    trusted_proxy_hops: int = 0  # X-Forwarded-For entries added by our own proxies
    max_request_bytes: int = 64 * 1024
