"""PNG screenshots of rendered emails with headless Chromium, saved in tests/artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot_email(html_path: str | Path, name: str) -> Path:
    """Screenshot an HTML preview (images beside it); skip with a clear reason if Chromium is absent."""
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium): email screenshot not taken")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=700,1400",
            f"--screenshot={target}",
            Path(html_path).resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert target.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    return target


def preview_from_eml(eml: Path, folder: Path) -> Path:
    """The HTML part of a saved email with its inline (cid:) images written beside it."""
    import email
    import email.policy

    message = email.message_from_bytes(Path(eml).read_bytes(), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    folder.mkdir(parents=True, exist_ok=True)
    for part in message.walk():
        cid = (part.get("Content-ID") or "").strip("<>")
        if cid and part.get_content_maintype() == "image":
            (folder / f"{cid}.png").write_bytes(part.get_content())
            html = html.replace(f"cid:{cid}", f"{cid}.png")
    path = folder / "email.html"
    path.write_text(html, encoding="utf-8")
    return path
