#!/usr/bin/env bash
# Organise footage generated elsewhere: a project, a scene, a character, a shot, two takes.
# Run from the repository root after `pip install -e .`; it works in a fresh folder under /tmp.
set -euo pipefail
film="${1:-$(mktemp -d)/night-train}"
incoming="$(dirname "$film")/incoming"
mkdir -p "$incoming"

# Stand-ins for a generator's output: a still and a two-second clip (real PNG and H.264 MP4).
python - "$incoming" <<'PY'
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

folder = Path(sys.argv[1])
y, x = np.mgrid[0:360, 0:640]
Image.fromarray(np.dstack([x % 256, y % 256, (x + y) % 256]).astype(np.uint8)).save(folder / "anna_ref.png")
Image.fromarray(np.dstack([y % 256, x % 256, (x * 2) % 256]).astype(np.uint8)).save(folder / "take_still.png")
with av.open(str(folder / "take_clip.mp4"), "w") as out:
    stream = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=Fraction(24))
    stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
    for i in range(48):
        frame = np.dstack([(x + 4 * i) % 256, y % 256, (x + y + i) % 256]).astype(np.uint8)
        out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
    out.mux(stream.encode())
PY

export SETPIECE_USER="${SETPIECE_USER:-director}"
setpiece init "$film" --name "Night Train" --fps 24 --resolution 1920x1080
cd "$film"
setpiece scene add --heading "INT. TRAIN CORRIDOR - NIGHT" --synopsis "Anna searches the carriages."
setpiece character add ANNA --description "conductor, 40s, navy uniform" --ref "$incoming/anna_ref.png"
setpiece shot add 1 --code 1A --description "Anna walks towards camera" --size MS --lens 35 \
  --move push-in --duration 4 --characters "ANNA@centre-mg"
setpiece take import 1A "$incoming/take_still.png" "$incoming/take_clip.mp4" \
  --generator runway --model gen4_turbo --prompt "a conductor walks a night train corridor" --seed 42
setpiece shot set 1A --status review
setpiece take list 1A
setpiece shot show 1A
setpiece status
setpiece fsck
echo "Project ready in $film"
