"""The compose project's own files (compose file(s) and .env), found through the labels compose
puts on its containers, written into the snapshot with every value masked.

The raw files are never copied: a compose file's `environment:` and an .env hold the
production secrets. A file that cannot be read (remote engine, permissions, deleted since the
project started) is listed with the reason.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from commands.docker import COMPOSE_CONFIG_FILES, COMPOSE_ENV_FILE, COMPOSE_WORKING_DIR
from takeover.mask import MASK, mask_compose, mask_env_file


def project_files(containers: dict[str, dict]) -> dict:
    """{configFiles, workingDir, envFiles} as the containers' compose labels name them."""
    config_files: list[str] = []
    working_dirs: list[str] = []
    env_files: list[str] = []
    for record in containers.values():
        labels = (record.get("Config") or {}).get("Labels") or {}
        for path in (labels.get(COMPOSE_CONFIG_FILES) or "").split(","):
            if path.strip() and path.strip() not in config_files:
                config_files.append(path.strip())
        if labels.get(COMPOSE_WORKING_DIR) and labels[COMPOSE_WORKING_DIR] not in working_dirs:
            working_dirs.append(labels[COMPOSE_WORKING_DIR])
        for path in (labels.get(COMPOSE_ENV_FILE) or "").split(","):
            if path.strip() and path.strip() not in env_files:
                env_files.append(path.strip())
    if not env_files:
        env_files = [str(Path(d) / ".env") for d in working_dirs]
    return {"configFiles": config_files, "workingDirs": working_dirs, "envFiles": env_files}


def write_masked_files(files: dict, out_dir: Path, *, remote: bool) -> list[dict]:
    """Writes `compose/<n>-<name>.masked.yml` and `compose/<n>-<name>.masked.env`; returns one
    entry per file: {path, kind, written | error, names (for .env)}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict] = []
    for kind, paths in (("compose", files["configFiles"]), ("env", files["envFiles"])):
        for number, path in enumerate(paths, 1):
            entry: dict = {"path": path, "kind": kind}
            entries.append(entry)
            if remote:
                entry["error"] = "the engine is remote: read this file on its host"
                continue
            try:
                text = Path(path).read_text()
            except OSError as error:
                entry["error"] = f"cannot read: {error.strerror or error}"
                continue
            suffix = "yml" if kind == "compose" else "env"
            target = out_dir / f"{number}-{Path(path).name.lstrip('.') or kind}.masked.{suffix}"
            if kind == "compose":
                try:
                    document = yaml.safe_load(text)
                except yaml.YAMLError as error:
                    entry["error"] = f"not valid YAML, not copied: {str(error).splitlines()[0]}"
                    continue
                masked = mask_compose(document)
                target.write_text(f"# {path}, every environment value and secret replaced by {MASK}\n"
                                  + yaml.safe_dump(masked, sort_keys=False, allow_unicode=True))
                entry["services"] = sorted((document or {}).get("services") or {}) \
                    if isinstance(document, dict) else []
            else:
                lines, dropped = mask_env_file(text)
                target.write_text(f"# {path}, every value replaced by {MASK}; "
                                  f"{dropped} comment line(s) dropped\n" + "\n".join(lines) + "\n")
                entry["names"] = [line.partition("=")[0] for line in lines if not line.startswith("#")]
            entry["written"] = str(target.relative_to(out_dir.parent))
    return entries
