"""Tokens verified with a public key (RS256); a token signed with any other algorithm is refused."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import mint_token
from api.settings import Settings


@pytest.fixture(scope="module")
def rsa_settings(tmp_path_factory) -> Settings:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('rsa') / 'a.db'}", demo=False,
                    jwt_algorithm="RS256", jwt_public_key=public, jwt_private_key=private, warm_up=False)


def test_rs256_tokens_are_accepted_and_hs256_tokens_are_not(rsa_settings, demo_universe):
    with TestClient(create_app(rsa_settings, universe=demo_universe)) as client:
        good = mint_token(rsa_settings, "ops", "ops-rsa")
        assert client.get("/v1/funds?limit=1", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        now = int(time.time())
        claims = {"sub": "x", "role": "ops", "iat": now, "exp": now + 60, "iss": "robo-advisor"}
        forged = jwt.encode(claims, "some-hmac-secret-0123456789abcdef0123", algorithm="HS256")
        assert client.get("/v1/funds", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_production_mode_needs_a_real_key():
    with pytest.raises(ValueError, match="ADVISOR_JWT_SECRET"):
        create_app(Settings(database_url="sqlite://", demo=False))
