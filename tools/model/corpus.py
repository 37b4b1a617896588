"""Build the labelled training corpus for the embedded MoE Lens model.

Every source is permissively licensed text that is already on a machine like ours: the Python standard library
(PSF-2.0), C/C++ headers of PyTorch, pybind11 and Node.js (BSD-3-Clause / MIT), and TypeScript/JavaScript,
Markdown and JSON from the npm packages this project installs (each package's own licence field is checked; only
MIT, ISC, Apache-2.0, BSD-2/3-Clause, 0BSD and Unlicense are taken). Files are split train/held-out by a hash of
their path, so held-out text is never seen in training. Output: work/corpus/<domain>/{train,val}.txt and
work/corpus/sources.json (files, bytes, licences, sha256).

Run from the repository root after `npm ci`:  /usr/bin/python3 tools/model/corpus.py
"""
import glob, hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tools", "model", "out", "corpus")
EOT = "<|endoftext|>"  # document separator; a special token of the tokenizer
CAP_TRAIN = 6_000_000   # bytes per domain: keeps training time bounded and domains comparable
MAX_FILE = 200_000      # skip generated bundles and huge single files
VAL_EVERY = 10          # 1 in 10 files (by path hash) is held out
PERMISSIVE = {"MIT", "ISC", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "Unlicense", "BlueOak-1.0.0", "Python-2.0"}

DOMAINS = ["typescript_js", "python", "c_cpp", "markdown", "json"]


def npm_packages():
    """(package dir, licence) for every permissively licensed package under the node_modules folders we read."""
    roots = [os.path.join(ROOT, "node_modules"), "/usr/lib/node_modules"]
    out = []
    for root in roots:
        for pj in glob.glob(os.path.join(root, "**", "package.json"), recursive=True):
            d = os.path.dirname(pj)
            if os.path.basename(os.path.dirname(d)) not in ("node_modules",) and not os.path.basename(os.path.dirname(os.path.dirname(d))) == "node_modules":
                continue  # only package roots (node_modules/x or node_modules/@scope/x)
            try:
                meta = json.load(open(pj, encoding="utf-8"))
            except Exception:
                continue
            lic = meta.get("license")
            if isinstance(lic, dict):
                lic = lic.get("type")
            if isinstance(lic, str) and lic.strip("()") in PERMISSIVE and meta.get("name"):
                out.append((d, lic))
    return sorted(set(out))


def files_in(dirs, exts, licence_of):
    seen = []
    for d in dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = sorted(x for x in dirnames if x != "node_modules")  # nested packages are listed on their own
            for f in sorted(filenames):
                if f.endswith(exts) and not f.endswith((".min.js", ".map")):
                    seen.append((os.path.join(dirpath, f), licence_of(d)))
    return seen


def read_text(path):
    try:
        if os.path.getsize(path) > MAX_FILE:
            return None
        raw = open(path, "rb").read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.strip() or "\x00" in text:
        return None
    lines = text.split("\n")
    if max(len(l) for l in lines) > 1000:  # minified or generated: not what people write
        return None
    return text


def collect():
    pkgs = npm_packages()
    pkg_dirs = [d for d, _ in pkgs]
    lic = dict(pkgs)
    sys_lic = {"/usr/lib/python3.11": "Python-2.0 (PSF)", "/usr/include/torch": "BSD-3-Clause (PyTorch)",
               "/usr/include/ATen": "BSD-3-Clause (PyTorch)", "/usr/include/c10": "BSD-3-Clause (PyTorch)",
               "/usr/include/pybind11": "BSD-3-Clause (pybind11)", "/usr/include/node": "MIT (Node.js; bundled v8 BSD-3-Clause, libuv MIT, OpenSSL Apache-2.0)"}
    return {
        "typescript_js": files_in(pkg_dirs, (".ts", ".js", ".mjs", ".cjs", ".tsx"), lic.get),
        "python": files_in(["/usr/lib/python3.11"], (".py",), sys_lic.get),
        "c_cpp": files_in(["/usr/include/torch", "/usr/include/ATen", "/usr/include/c10", "/usr/include/pybind11", "/usr/include/node"], (".h", ".hpp", ".cuh"), sys_lic.get),
        "markdown": files_in(pkg_dirs, (".md", ".markdown"), lic.get),
        "json": files_in(pkg_dirs, (".json",), lic.get),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"separator": EOT, "domains": {}}
    for domain, files in collect().items():
        # Deterministic but mixed order: sort by path hash so the byte cap samples every source tree.
        files.sort(key=lambda fl: hashlib.sha1(fl[0].encode()).hexdigest())
        parts = {"train": [], "val": []}
        size = {"train": 0, "val": 0}
        licences = {}
        for path, licence in files:
            split = "val" if int(hashlib.sha1(path.encode()).hexdigest(), 16) % VAL_EVERY == 0 else "train"
            cap = CAP_TRAIN if split == "train" else CAP_TRAIN // 20
            if size[split] >= cap:
                continue
            text = read_text(path)
            if text is None:
                continue
            parts[split].append(text)
            size[split] += len(text.encode())
            licences[licence or "unknown"] = licences.get(licence or "unknown", 0) + 1
        os.makedirs(os.path.join(OUT, domain), exist_ok=True)
        info = {"licences": licences}
        for split in ("train", "val"):
            blob = EOT.join(parts[split])
            with open(os.path.join(OUT, domain, split + ".txt"), "w", encoding="utf-8") as f:
                f.write(blob)
            info[split] = {"files": len(parts[split]), "bytes": len(blob.encode()), "sha256": hashlib.sha256(blob.encode()).hexdigest()}
        manifest["domains"][domain] = info
        print(f"{domain:14s} train {info['train']['files']:5d} files {info['train']['bytes']/1e6:6.2f} MB   "
              f"val {info['val']['files']:4d} files {info['val']['bytes']/1e6:5.2f} MB   licences {licences}")
    json.dump(manifest, open(os.path.join(OUT, "sources.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
