"""docker-compose.yml, checked without Docker: image, ports, volume, healthcheck, secrets."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_image_is_the_pinned_community_release_of_the_pom():
    pom = (REPO / "neo4j" / "pom.xml").read_text(encoding="utf-8")
    version = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", pom).group(1)
    assert compose()["services"]["neo4j"]["image"] == f"neo4j:{version}-community"


def test_ports_volume_and_apoc():
    service = compose()["services"]["neo4j"]
    assert sorted(service["ports"]) == ["127.0.0.1:7474:7474", "127.0.0.1:7687:7687"]
    assert service["volumes"] == ["neo4j-data:/data"]
    assert "neo4j-data" in compose()["volumes"]
    assert service["environment"]["NEO4J_PLUGINS"] == '["apoc"]'


def test_healthcheck_probes_the_http_port():
    check = compose()["services"]["neo4j"]["healthcheck"]
    assert "7474" in " ".join(check["test"])
    assert check["retries"] >= 3


def test_password_comes_from_env_file_and_none_is_committed():
    auth = compose()["services"]["neo4j"]["environment"]["NEO4J_AUTH"]
    assert auth.startswith("neo4j/${NEO4J_PASSWORD")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^NEO4J_PASSWORD=$", example, re.M)
    assert ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").split()
