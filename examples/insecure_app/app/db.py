from sqlalchemy.ext.asyncio import create_async_engine, AsyncSession
from sqlalchemy.orm import sessionmaker
import os

# Ensure environment provides these or load from a secure vault
DB_HOST = os.getenv("DB_HOST", "localhost")
DB_PORT = os.getenv("DB_PORT", "26257")
DB_NAME = os.getenv("DB_NAME", "defaultdb")
DB_USER = os.getenv("DB_USER", "root")
DB_CERT_PATH = os.getenv("DB_CERT_PATH", "/secrets/client.crt")
DB_KEY_PATH = os.getenv("DB_KEY_PATH", "/secrets/client.key")
DB_CA_PATH = os.getenv("DB_CA_PATH", "/secrets/ca.crt")

# Build connection string with full TLS enforcement
dsn = (
    f"postgresql+asyncpg://{DB_USER}@{DB_HOST}:{DB_PORT}/{DB_NAME}"
    f"?sslmode=verify-ca"
    f"&sslcert={DB_CERT_PATH}"
    f"&sslkey={DB_KEY_PATH}"
    f"&sslrootcert={DB_CA_PATH}"
)

engine = create_async_engine(dsn, echo=False)
AsyncLocalSession = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

async def get_session():
    async with AsyncLocalSession() as session:
        yield session
