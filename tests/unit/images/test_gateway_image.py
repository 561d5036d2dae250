"""The real gateway's image (tools/build-gateway-image.sh): its tag is named by its recipe without
asking an engine (its test's wait for the background build: test_background_image_wait.py)."""
import re
import subprocess

from testing.real_gateway import BUILD_SCRIPT


def test_the_tag_names_the_commit_and_a_hash_of_the_recipe_without_an_engine(tmp_path):
    done = subprocess.run(["bash", str(BUILD_SCRIPT), "--tag"], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                           "MEESHY_TOOLS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"meeshy-local/gateway:meeshy-ea1789df2-[0-9a-f]{12}\n", done.stdout)
