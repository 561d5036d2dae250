"""Masking of everything the audit writes, so a snapshot can be read, kept and shared.

Rules (each one tested in tests/unit/takeover/test_audit_mask.py on a realistic inspect):
- every environment value is replaced by MASK, names kept (container and image `Config.Env`,
  compose `environment:`, every line of `.env`);
- a label, option or mapping value is masked whole when its key looks like a secret
  (basic-auth users, password, secret, token, key, credentials) or its value looks like one
  (htpasswd or crypt hashes, JWTs, private keys);
- in any other string: the password of a URI (`scheme://user:PASSWORD@host`), the value after a
  secret-looking flag (`--requirepass X`, `--password=X`) or assignment (`token=X`).
"""
from __future__ import annotations

import copy
import re
from typing import Any

MASK = "<masked>"

_SECRET_WORD = r"(?:basic-?auth|digest-?auth|passw(?:or)?d|pass(?:phrase)?(?![a-z])|pwd|secret|token|" \
               r"api[-_.]?key|" \
               r"private[-_.]?key|credential|auth[-_.]?users|users[-_.]?file|access[-_.]?key|" \
               r"session[-_.]?key|encryption[-_.]?key|signing[-_.]?key|salt)"
SECRET_KEY = re.compile(rf"(?i){_SECRET_WORD}")
# Hash and token formats that are secret whatever their key says.
SECRET_VALUE = re.compile(
    r"(?:^|[\s:,])\$(?:apr1|2[abxy]?|[156]|sha1|argon2(?:id|i|d)?)\$"   # htpasswd / crypt
    r"|\{SHA\}|\{SSHA\}"                                                 # htpasswd sha
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."                      # JWT
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----")
_URI_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?=@)")
_FLAG_VALUE = re.compile(rf"(?i)(?P<head>(?:^|\s)--?[\w.-]*{_SECRET_WORD}[\w.-]*(?:=|\s+))(?P<v>[^\s]+)")
# `-p` is a password only beside a user name (mongosh -u U -p P), `-a` only for redis-cli.
_SHORT_PASSWORD = re.compile(r"(?P<head>(?:^|\s)-p\s+)(?P<v>[^\s-]\S*)")
_HAS_USER = re.compile(r"(?:^|\s)(?:-u|--username)[\s=]")
_REDIS_AUTH = re.compile(r"(?P<head>\bredis-cli\b.*?\s-a\s+)(?P<v>\S+)")
_ASSIGNMENT = re.compile(rf"(?i)(?P<head>\b[\w.-]*{_SECRET_WORD}[\w.-]*[\"']?\s*[=:]\s*[\"']?)"
                         rf"(?P<v>[^\s,;&\"']+)")


def mask_string(text: str) -> str:
    """Masks the secret parts of one free-form string (a command, an option, a URI)."""
    if SECRET_VALUE.search(text):
        return MASK
    text = _URI_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    text = _FLAG_VALUE.sub(lambda m: m["head"] + MASK, text)
    if _HAS_USER.search(text):
        text = _SHORT_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    text = _REDIS_AUTH.sub(lambda m: m["head"] + MASK, text)
    return _ASSIGNMENT.sub(lambda m: m["head"] + (m["v"] if m["v"] == MASK else MASK), text)


def mask_keyed(key: str, value: Any) -> Any:
    """A mapping entry: masked whole when its key or value looks secret, else walked."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and (
            SECRET_KEY.search(key) or (isinstance(value, str) and SECRET_VALUE.search(value))):
        return MASK
    return mask_deep(value)


def mask_deep(value: Any) -> Any:
    if isinstance(value, str):
        return mask_string(value)
    if isinstance(value, dict):
        return {k: mask_keyed(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return mask_argv(value) if all(isinstance(v, str) for v in value) else [mask_deep(v) for v in value]
    return value


def mask_argv(argv: list[str]) -> list[str]:
    """A command as a list: the word after a secret-looking flag is masked too."""
    out: list[str] = []
    with_user = any(w in ("-u", "--username") or w.startswith("--username=") for w in argv)
    redis_cli = any(w.rsplit("/", 1)[-1] == "redis-cli" for w in argv)
    for i, word in enumerate(argv):
        previous = argv[i - 1] if i else ""
        if (previous.startswith("-") and "=" not in previous and SECRET_KEY.search(previous)) \
                or (previous == "-p" and with_user) or (previous == "-a" and redis_cli):
            out.append(MASK)
        else:
            out.append(mask_string(word))
    return out


def mask_env_list(env: list[str] | None) -> list[str] | None:
    if env is None:
        return None
    return [f"{item.partition('=')[0]}={MASK}" for item in env]


def mask_labels(labels: dict | None) -> dict | None:
    if labels is None:
        return None
    return {k: mask_keyed(k, v) for k, v in labels.items()}


def mask_container(record: dict) -> dict:
    """A `docker container inspect` item with every env value and every secret masked."""
    out = copy.deepcopy(record)
    cfg = out.get("Config") or {}
    cfg["Env"] = mask_env_list(cfg.get("Env"))
    cfg["Labels"] = mask_labels(cfg.get("Labels"))
    return mask_deep(out)


def mask_image(record: dict) -> dict:
    out = copy.deepcopy(record)
    for section in ("Config", "ContainerConfig"):
        cfg = out.get(section) or {}
        if "Env" in cfg:
            cfg["Env"] = mask_env_list(cfg.get("Env"))
        if "Labels" in cfg:
            cfg["Labels"] = mask_labels(cfg.get("Labels"))
    return mask_deep(out)


def mask_compose(document: Any) -> Any:
    """A parsed compose file: `environment:` values all masked (mapping or NAME=VALUE list),
    labels by the label rule, everything else by the string rules."""
    if not isinstance(document, dict):
        return mask_deep(document)
    out = {}
    for key, value in document.items():
        if key == "environment":
            out[key] = _mask_environment(value)
        elif key == "labels" and isinstance(value, list):
            out[key] = [_mask_label_item(item) for item in value]
        elif key == "labels" and isinstance(value, dict):
            out[key] = mask_labels(value)
        elif isinstance(value, dict):
            out[key] = mask_compose(value)
        elif isinstance(value, list):
            out[key] = [mask_compose(v) if isinstance(v, dict) else mask_deep(v) for v in value] \
                if not all(isinstance(v, str) for v in value) else mask_argv(value)
        else:
            out[key] = mask_keyed(str(key), value)
    return out


def _mask_environment(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK for k in value}
    if isinstance(value, list):
        return [f"{str(item).partition('=')[0]}={MASK}" for item in value]
    return MASK


def _mask_label_item(item: Any) -> Any:
    if not isinstance(item, str):
        return mask_deep(item)
    key, sep, value = item.partition("=")
    return f"{key}={mask_keyed(key, value)}" if sep else mask_string(item)


def mask_env_file(text: str) -> tuple[list[str], int]:
    """An .env file as `NAME=<masked>` lines; comments and blank lines dropped (a comment can
    hold an old password), lines that are not assignments reported as masked too.
    Returns (lines, dropped comment count)."""
    lines, dropped = [], 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            dropped += bool(line)
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, _ = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name.strip()):
            lines.append(f"{name.strip()}={MASK}")
        else:
            lines.append(f"# line {number}: not a NAME=VALUE assignment ({MASK})")
    return lines, dropped
