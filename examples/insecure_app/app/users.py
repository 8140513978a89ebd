import asyncio
import asyncpg
import os

async def fetch_users():
    conn = await asyncpg.connect(
        host=os.getenv("DB_HOST", "localhost"),
        port=int(os.getenv("DB_PORT", 26257)),
        database=os.getenv("DB_NAME", "defaultdb"),
        user=os.getenv("DB_USER", "root"),
        ssl={  # Enforce TLS with certificate validation
            "ssl_certfile": os.getenv("DB_CERT_PATH", "/secrets/client.crt"),
            "ssl_keyfile": os.getenv("DB_KEY_PATH", "/secrets/client.key"),
            "ssl_root_cert": os.getenv("DB_CA_PATH", "/secrets/ca.crt"),
            "ssl_mode": "verify-ca",  # or "verify-full" for hostname checks
        }
    )
    try:
        rows = await conn.fetch("SELECT username, email FROM users WHERE active = $1", True)
        return rows
    finally:
        await conn.close()

if __name__ == "__main__":
    result = asyncio.run(fetch_users())
    for r in result:
        print(r)
