"""examples/insecure_app holds every statically detectable rule (README's main command)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from verifyfull import rules
from verifyfull.scan import engine
from verifyfull.scan.settings import load

EXAMPLE = Path(__file__).parent.parent / "examples" / "insecure_app"
# Rules only a live server or a dialled host can show (probe), or that need the
# client-certificate policy to be on: not visible in a source tree.
LIVE_ONLY = {"VF205", "VF206", "VF207", "VF208", "VF301", "VF302"}

EXPECTED_BY_FILE = {
    ".env": {"VF101", "VF102", "VF401"},
    "alembic.ini": {"VF102"},
    "app/config.py": {"VF102", "VF401"},  # the pool's DSN default, reported where written
    "app/db.py": {"VF104", "VF105"},
    "app/main.py": {"VF105"},
    "app/orders.py": {"VF101", "VF103", "VF108"},
    "app/security.py": {"VF402", "VF403", "VF404"},
    "app/tls.py": {"VF103", "VF106", "VF107"},  # check_hostname=False then CERT_NONE: one VF103
    "app/users.py": {"VF105"},
    "certs/node.crt": {"VF303", "VF304", "VF305"},
    "certs/node.key": {"VF304", "VF306"},
    "deploy/api-deployment.yaml": {"VF103"},
    "deploy/pg_hba.conf": {"VF202"},
    "deploy/postgresql.conf": {"VF203", "VF204"},
    "docker-compose.yml": {"VF102", "VF201", "VF202", "VF204"},
}


def test_the_example_reports_every_statically_detectable_rule() -> None:
    result = engine.scan([EXAMPLE], load(EXAMPLE), jobs=1)
    assert result.report.errors == ()
    by_file: dict[str, set[str]] = defaultdict(set)
    for item in result.report.findings:
        by_file[item.path or ""].add(item.rule_id)
    assert dict(by_file) == EXPECTED_BY_FILE
    static_rules = {r.id for r in rules.all_rules() if "scan" in r.where} - LIVE_ONLY
    assert set().union(*by_file.values()) == static_rules


def test_the_seed_snippets_are_in_the_example_verbatim() -> None:
    # shared/ sits beside the repository (the work tree and CI's clone alike)
    seed_name = Path("seed") / "missing-tls-fastapi-cockroachdb.txt"
    candidates = [EXAMPLE.parents[2] / "shared" / seed_name, Path("/work/shared") / seed_name]
    seed = next((c for c in candidates if c.is_file()), candidates[0])
    db = (EXAMPLE / "app" / "db.py").read_text(encoding="utf-8")
    users = (EXAMPLE / "app" / "users.py").read_text(encoding="utf-8")
    assert 'f"?sslmode=verify-ca"' in db and "create_async_engine(dsn, echo=False)" in db
    assert '"ssl_mode": "verify-ca",  # or "verify-full" for hostname checks' in users
    if seed.is_file():  # the seed lives outside the repository
        text = seed.read_text(encoding="utf-8")
        assert db.strip() in text
        assert users.strip() in text
