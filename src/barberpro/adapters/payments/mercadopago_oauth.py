"""The platform's MercadoPago application acting for sellers: OAuth authorization code with PKCE.

A shop's owner is sent to MercadoPago's authorization page (`authorization_url`); MercadoPago
sends them back with a one-time code, which the platform exchanges, with its application's
secret and the PKCE verifier, for the seller's access token (valid 180 days) and a refresh
token (`exchange`). Before the access token expires it is exchanged for a new pair
(`refresh`). Requests go to POST /oauth/token, form-encoded, as MercadoPago documents.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx

from barberpro.adapters.payments.mercadopago import API_URL
from barberpro.application.payment_ports import GatewayUnauthorized, GatewayUnavailable, OAuthGrant

AUTH_URL = "https://auth.mercadopago.com/authorization"


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636): base64url of its SHA-256, unpadded."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class MercadoPagoOAuth:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], datetime],
        base_url: str = API_URL,
        auth_url: str = AUTH_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._auth_url = auth_url
        self._client = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str:
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "platform_id": "mp",
            "state": state,
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._auth_url}?{urlencode(query)}"

    def exchange(self, *, code: str, redirect_uri: str, code_verifier: str) -> OAuthGrant:
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> OAuthGrant:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token(self, form: dict[str, str]) -> OAuthGrant:
        asked_at = self._clock()
        try:
            response = self._client.post(
                "/oauth/token",
                data={"client_id": self.client_id, "client_secret": self._secret, **form},
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"MercadoPago did not answer: {type(error).__name__}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailable(f"MercadoPago answered {response.status_code}")
        if response.status_code in (400, 401, 403):
            # invalid_grant (a used, expired or foreign code; a revoked refresh token) or the
            # platform's own credentials refused: either way nothing to retry.
            raise GatewayUnauthorized(f"MercadoPago refused the {form['grant_type']} grant ({response.status_code})")
        response.raise_for_status()
        data = response.json()
        return OAuthGrant(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            user_id=str(data["user_id"]),
            # Counted from when we asked, so a slow answer never makes the token look fresher.
            expires_at=asked_at + timedelta(seconds=int(data.get("expires_in", 0))),
            live_mode=bool(data.get("live_mode", False)),
        )
