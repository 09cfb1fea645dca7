"""Start-up configuration: bad values stop the process and name the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_check(tmp_path, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update(CHUNKR_VAR_DIR=str(tmp_path / "var"), **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    result = run_check(tmp_path, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" in result.stderr or "ImproperlyConfigured" in result.stderr


def test_debug_off_with_secret_key_starts(tmp_path):
    result = run_check(tmp_path, DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr


def test_debug_on_generates_a_secret_key_once_into_var(tmp_path):
    assert run_check(tmp_path).returncode == 0
    key_file = tmp_path / "var" / "secret-key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert run_check(tmp_path).returncode == 0
    assert key_file.read_text() == first


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("PORT", "eighty", "PORT must be a whole number"),
        ("PORT", "70000", "PORT must be at most 65535"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL"),
        ("CHUNKR_LLM_BASE_URL", "ftp://llm.local", "CHUNKR_LLM_BASE_URL must be a URL"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL"),
        ("STORAGE_BACKEND", "floppy", "STORAGE_BACKEND must be"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(tmp_path, variable, value, needle):
    result = run_check(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert needle in result.stderr


def test_make_run_serves_with_debug_off_and_its_own_secret_unless_debug_is_asked_for(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, ','.join(s.ALLOWED_HOSTS), bool(s.SECRET_KEY))"
    )

    def shell(**env_overrides) -> str:
        env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
        env.update(CHUNKR_VAR_DIR=str(tmp_path / "var"), **env_overrides)
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1].split()  # after the shell's own note on auto-imports

    assert shell(CHUNKR_LOCAL_RUN="1") == ["False", "False", "127.0.0.1,localhost,[::1]", "True"]
    assert (tmp_path / "var" / "secret-key").exists()  # generated, as with DEBUG: no setting needed for make run
    assert shell(CHUNKR_LOCAL_RUN="1", DEBUG="true")[0] == "True"
    assert shell()[0] == "True"  # manage.py and the tests keep DEBUG's default


def test_production_settings_pass_django_s_deploy_check(tmp_path):
    """What docker/compose.yml and the README's production list set: DEBUG off, a secret, hosts, TLS at a proxy, a
    real database and Redis. `manage.py check --deploy` then has nothing to say."""
    unset = {
        "SECRET_KEY",
        "DEBUG",
        "CHUNKR_LOCAL_RUN",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # the last: set by the browser tests
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        CHUNKR_VAR_DIR=str(tmp_path / "var"),
        DEBUG="false",
        SECRET_KEY="k3y-" + "".join(chr(97 + i % 26) + str(i % 10) for i in range(40)),
        ALLOWED_HOSTS="chunkr.example.org",
        BEHIND_TLS_PROXY="true",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://chunkr@db:5432/chunkr",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


S3_ENV = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "chunkr", "S3_ENDPOINT_URL": "http://minio:9000"}


def test_s3_settings_sign_public_links_with_a_twin_storage_and_refuse_a_bad_style(tmp_path):
    code = (
        "from django.conf import settings as s; o = s.STORAGES['default']['OPTIONS']; "
        "print(o['endpoint_url'], o['addressing_style'], s.STORAGES['public']['OPTIONS']['endpoint_url'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update(CHUNKR_VAR_DIR=str(tmp_path / "var"), S3_PUBLIC_ENDPOINT_URL="https://files.example.com", **S3_ENV)
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].split() == ["http://minio:9000", "path", "https://files.example.com"]

    refused = run_check(tmp_path, S3_ADDRESSING_STYLE="sideways", **S3_ENV)
    assert refused.returncode != 0 and "S3_ADDRESSING_STYLE must be" in refused.stderr
    refused = run_check(tmp_path, S3_PUBLIC_ENDPOINT_URL="files.example.com", **S3_ENV)
    assert refused.returncode != 0 and "S3_PUBLIC_ENDPOINT_URL must be a URL" in refused.stderr
