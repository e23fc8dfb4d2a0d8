"""Security headers of a running site, as shcheck (PyPI shcheck==1.7) sees
them: every header it looks for must be present on each page checked, or
be named in docs/deployment.md, in its "Security headers left out" list,
with the reason. Reads QUIRE_E2E_URL and QUIRE_E2E_PAPERS."""

import json
import os
import pathlib
import subprocess
import sys

base = os.environ["QUIRE_E2E_URL"].rstrip("/")
papers = json.load(open(os.environ["QUIRE_E2E_PAPERS"]))
shcheck = pathlib.Path(sys.executable).with_name("shcheck.py")
docs = pathlib.Path(__file__).resolve().parent.parent / "docs" / "deployment.md"
text = docs.read_text()
left_out = text[text.index("## Security headers left out"):]

published = next(p["slug"] for p in papers if p["status"] == "published")
paths = ["/", f"/papers/{published}/", "/archive/", "/feed.atom", "/subscribe", "/no-such-page", "/search?q=port"]
problems = []
for path in paths:
    for method in ["HEAD", "GET"]:
        out = subprocess.run(
            [sys.executable, str(shcheck), "-j", "-m", method, "--no-follow", base + path],
            capture_output=True, text=True, check=True,
        ).stdout
        report = json.loads(out)
        result = next(iter(report.values()))
        for header in result.get("missing", []):
            if f"`{header}`" not in left_out:
                problems.append(f"{method} {path}: {header} is missing, and docs/deployment.md does not say why")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"headers: shcheck finds every security header on {len(paths)} pages (HEAD and GET), "
      "or the reason it is left out in docs/deployment.md")
