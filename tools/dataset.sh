#!/usr/bin/env bash
# Build the training / dev / benchmark photo sets from Debian packages.
#
#   tools/dataset.sh            # writes data/{train,dev,benchmark}/*.png and data/MANIFEST.tsv
#
# No DIV2K can be downloaded here, so the photos come from Debian packages fetched with
# `apt-get download` (no install, no root needed beyond apt's cache) and unpacked with `dpkg -x`.
# Every file is picked by hand below (real photographs only, no drawn or rendered art),
# converted to 8-bit RGB PNG and listed in data/MANIFEST.tsv with its package, version and the
# licence its /usr/share/doc/<pkg>/copyright gives for that file.
#
# Set5 / Set14 images are NEVER put in train or dev. The ones a package ships (opencv-doc's
# dnn_superres/butterfly.png is Set5's butterfly, data/baboon.jpg a JPEG of Set14's baboon) go to
# data/benchmark/, for reporting only. opencv-doc's data/butterfly.jpg (a different swallowtail
# photo) is left out entirely so no name collides with Set5.
#
# Train photos whose long side exceeds MAX_SIDE (2040, DIV2K's width) are downscaled with an
# antialiased bicubic filter: big wallpapers are often soft or upsampled, and a smaller copy is
# sharper per pixel and cheaper to hold in memory. Dev photos are cropped to at most DEV_CROP x
# DEV_CROP (after the same downscale; the most detailed of 25 candidate windows) so evaluation
# on 1 CPU thread stays quick.
#
# Idempotent: re-running removes and rewrites data/train, data/dev, data/benchmark and the manifest.
# Environment: PYTHON (default /usr/bin/python3, needs PIL), WORK (download dir).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
WORK="${WORK:-${TMPDIR:-/tmp}/msrn-dataset-debs}"
PYTHON="${PYTHON:-/usr/bin/python3}"
PKGS=(mate-backgrounds lomiri-wallpapers-20.04 plasma-workspace-wallpapers opencv-doc
      python-matplotlib-data python3-skimage)

mkdir -p "$WORK/debs" "$WORK/x"
if ! apt-cache show "${PKGS[0]}" >/dev/null 2>&1; then
  echo "apt-cache does not know ${PKGS[0]}: running apt-get update" >&2
  apt-get update
fi

cd "$WORK/debs"
for p in "${PKGS[@]}"; do
  if ! ls "${p}"_*.deb >/dev/null 2>&1; then
    apt-get download "$p"
  fi
  deb=$(ls "${p}"_*.deb | head -n 1)
  if [ ! -f "$WORK/x/$p/.unpacked" ]; then
    rm -rf "$WORK/x/$p"
    mkdir -p "$WORK/x/$p"
    dpkg -x "$deb" "$WORK/x/$p"
    dpkg-deb -f "$deb" Version > "$WORK/x/$p/.version"
    touch "$WORK/x/$p/.unpacked"
  fi
done

rm -rf "$DATA/train" "$DATA/dev" "$DATA/benchmark"
mkdir -p "$DATA/train" "$DATA/dev" "$DATA/benchmark"

"$PYTHON" - "$WORK/x" "$DATA" <<'PY'
import fnmatch, os, re, sys
import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None
X, DATA = sys.argv[1], sys.argv[2]
MAX_SIDE, DEV_CROP = 2040, 480

MATE = "usr/share/backgrounds/mate/nature/"
PLASMA = "usr/share/wallpapers/%s/contents/images/2560x1600.jpg"
CV = "usr/share/doc/opencv-doc/examples/"
SK = "usr/lib/python3/dist-packages/skimage/data/"

# (split, package, path inside the package)
PICKS = [
    # mate-backgrounds: nature photographs (the abstract/desktop ones are drawn)
    *[("train", "mate-backgrounds", MATE + f) for f in (
        "Aqua.jpg", "Blinds.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg",
        "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg")],
    ("dev", "mate-backgrounds", MATE + "Dune.jpg"),
    ("dev", "mate-backgrounds", MATE + "LadyBird.jpg"),
    # lomiri-wallpapers-20.04: the one plain photograph
    ("train", "lomiri-wallpapers-20.04", "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"),
    # plasma-workspace-wallpapers: the photographic wallpapers (the rest are renders/paintings)
    *[("train", "plasma-workspace-wallpapers", PLASMA % n) for n in (
        "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "FallenLeaf", "Grey", "Kite",
        "OneStandsOut", "summer_1am")],
    ("train", "plasma-workspace-wallpapers",
     "usr/share/wallpapers/Volna/contents/images/5120x2880.jpg"),
    ("dev", "plasma-workspace-wallpapers", PLASMA % "EveningGlow"),
    ("dev", "plasma-workspace-wallpapers", PLASMA % "Path"),
    # opencv-doc sample photographs (one of each stereo / near-duplicate pair)
    *[("train", "opencv-doc", CV + f) for f in (
        "alphamat/input_images/plant.jpg", "data/aero1.jpg", "data/aero3.jpg", "data/aloeL.jpg",
        "data/basketball1.png", "data/board.jpg", "data/box_in_scene.png", "data/building.jpg",
        "data/chicky_512.png", "data/ela_original.jpg", "data/fruits.jpg", "data/graf1.png",
        "data/home.jpg", "reg/home.png", "data/messi5.jpg", "data/rubberwhale1.png")],
    ("dev", "opencv-doc", CV + "data/squirrel_cls.jpg"),
    ("dev", "opencv-doc", CV + "data/leuvenA.jpg"),
    ("dev", "opencv-doc", CV + "hfs/data/000.jpg"),
    # python-matplotlib-data
    ("train", "python-matplotlib-data", "usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    # python3-skimage sample photographs (grey ones become R=G=B)
    *[("train", "python3-skimage", SK + f) for f in (
        "astronaut.png", "brick.png", "camera.png", "coins.png", "grass.png", "gravel.png",
        "hubble_deep_field.jpg", "moon.png", "motorcycle_left.png", "rocket.jpg")],
    ("dev", "python3-skimage", SK + "chelsea.png"),
    ("dev", "python3-skimage", SK + "coffee.png"),
    # standard SR test images: evaluation only, never trained on
    ("benchmark", "opencv-doc", CV + "dnn_superres/butterfly.png"),   # Set5 butterfly
    ("benchmark", "opencv-doc", CV + "data/baboon.jpg"),              # Set14 baboon (JPEG copy)
]

FORBIDDEN = re.compile(r"(^|[^a-z])(baby|butterfly|head|woman|baboon|barbara|bridge|coastguard|"
                       r"comic|face|flowers|foreman|lenna|lena|man|monarch|peppers?|ppt3|zebra)"
                       r"([^a-z]|$)")


def copyright_stanzas(pkg):
    """DEP-5 stanzas of /usr/share/doc/<pkg>/copyright as (file patterns, licence, copyright)."""
    path = os.path.join(X, pkg, "usr/share/doc", pkg, "copyright")
    text = open(path, encoding="utf-8", errors="replace").read()
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields, first, key = {}, {}, None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, val = line.split(":", 1)
                fields[key] = first[key] = val.strip()
        if "Files" in fields:
            # License's first line is the short name; Copyright may span lines.
            lic = first.get("License", "")
            if not lic and fields.get("License"):   # unnamed licence: quote its first words
                lic = "unnamed, text begins: " + fields["License"].strip()[:60]
            out.append((fields["Files"].split(), lic,
                        fields.get("Copyright", "").strip()))
    return out


def licence_of(pkg, relpath):
    """Last DEP-5 stanza whose pattern matches a suffix of the installed path (DEP-5: last wins)."""
    parts = relpath.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    best = None
    for pats, lic, cr in copyright_stanzas(pkg):
        # Source-tree paths differ from installed ones; a pattern with a directory part
        # also matches by its file name (e.g. "20.04/Kleiber_*.jpg").
        if any(fnmatch.fnmatchcase(s, p) for p in pats for s in suffixes) or \
           any("/" in p and "*" not in p and fnmatch.fnmatchcase(parts[-1], p.split("/")[-1])
               for p in pats):
            best = (lic, cr)
    return best or ("see /usr/share/doc/%s/copyright" % pkg, "")


rows = []
for split, pkg, rel in PICKS:
    src = os.path.join(X, pkg, rel)
    short = {"mate-backgrounds": "mate", "lomiri-wallpapers-20.04": "lomiri",
             "plasma-workspace-wallpapers": "plasma", "opencv-doc": "opencv",
             "python-matplotlib-data": "mpl", "python3-skimage": "skimage"}[pkg]
    stem = os.path.splitext(rel.split("/")[-1])[0]
    if pkg == "plasma-workspace-wallpapers":
        stem = rel.split("/")[3]
    if rel.startswith(CV + "reg/"):
        stem = "home_reg"
    if rel.startswith(CV + "hfs/"):
        stem = "hfs000"
    name = f"{short}_{stem}.png"
    if split != "benchmark" and FORBIDDEN.search(stem.lower()):
        sys.exit(f"refusing to put {rel} in {split}: name looks like a Set5/Set14 image")
    im = Image.open(src)
    orig = im.size
    im = im.convert("RGB")
    note = []
    if split != "benchmark" and max(im.size) > MAX_SIDE:
        f = MAX_SIDE / max(im.size)
        im = im.resize((round(im.size[0] * f), round(im.size[1] * f)), Image.BICUBIC)
        note.append(f"downscaled {orig[0]}x{orig[1]}->{im.size[0]}x{im.size[1]}")
    if split == "dev" and (im.size[0] > DEV_CROP or im.size[1] > DEV_CROP):
        # The most detailed of 5x5 candidate crops (mean |gradient| of grey): a centre crop of
        # a bokeh photo is flat and its PSNR (50+ dB) would swamp the dev mean.
        w, h = min(im.size[0], DEV_CROP), min(im.size[1], DEV_CROP)
        g = np.asarray(im.convert("L"), dtype=np.float64)
        best = None
        for t in np.linspace(0, im.size[1] - h, 5).round().astype(int):
            for l in np.linspace(0, im.size[0] - w, 5).round().astype(int):
                c = g[t:t + h, l:l + w]
                score = np.abs(np.diff(c, axis=0)).mean() + np.abs(np.diff(c, axis=1)).mean()
                if best is None or score > best[0]:
                    best = (score, int(l), int(t))
        _, l, t = best
        im = im.crop((l, t, l + w, t + h))
        note.append(f"crop {w}x{h} at ({l},{t})")
    im.save(os.path.join(DATA, split, name), optimize=False)
    version = open(os.path.join(X, pkg, ".version")).read().strip()
    lic, cr = licence_of(pkg, rel)
    rows.append((f"{split}/{name}", f"{im.size[0]}x{im.size[1]}", pkg, version, "/" + rel, lic,
                 cr[:120], "; ".join(note)))

with open(os.path.join(DATA, "MANIFEST.tsv"), "w") as f:
    f.write("image\tsize\tpackage\tversion\tsource_path\tlicense\tcopyright\tnote\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
counts = {s: sum(1 for r in rows if r[0].startswith(s + "/")) for s in ("train", "dev", "benchmark")}
print("wrote", counts, "->", os.path.join(DATA, "MANIFEST.tsv"))
PY
