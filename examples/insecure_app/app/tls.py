"""A client SSLContext for the payment gateway's PostgreSQL, 'fixed' until it connected."""

import ssl

import asyncpg

PAYMENTS_CA = "/secrets/payments-ca.crt"

payments_ctx = ssl.create_default_context(cafile=PAYMENTS_CA)
payments_ctx.check_hostname = False  # the gateway's certificate names an old host
payments_ctx.verify_mode = ssl.CERT_NONE  # the CA file was missing in staging
payments_ctx.minimum_version = ssl.TLSVersion.TLSv1  # the gateway runs an old proxy
payments_ctx.set_ciphers("ALL:@SECLEVEL=0")


async def payments_connection() -> asyncpg.Connection:
    return await asyncpg.connect(
        "postgresql://payments@payments-db:26257/payments", ssl=payments_ctx
    )
